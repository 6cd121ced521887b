"""The steps of the conversation and the draft feedback kept between events."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.conversation.events import LANGUAGES
from bot.conversation.ports import PhotoRef
from vocabulary import CRITERIA as CRITERIA  # the one-tap criteria, in the order they are asked


class Step(enum.StrEnum):
    """Where the citizen is; stored as text in the conversation row."""

    IDLE = "idle"
    LANGUAGE = "language"
    REGION = "region"
    OFFICE = "office"
    CATEGORY = "category"
    SERVICE = "service"
    RATING = "rating"
    CRITERIA = "criteria"
    TEXT = "text"
    PHOTO = "photo"
    CONSENT = "consent"
    ERASE = "erase"


@dataclass
class Draft:
    """The conversation's data: the answers so far and where to go back to.

    ``history`` holds the previous steps (a criteria step as ``criteria#<index>``) for "back".
    ``resume`` is the step to return to after a detour (``/language``, erasure question).
    """

    language: str | None = None
    direct: bool = False
    office_id: int | None = None
    region: str | None = None
    page: int = 0
    search: str | None = None
    category: str | None = None
    service_id: int | None = None
    rating: int | None = None
    criteria: dict[str, bool | None] = field(default_factory=dict)
    criterion: int = 0
    text: str | None = None
    photos: list[PhotoRef] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    resume: str | None = None
    last_ref: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        """Rebuild a draft from stored JSON, dropping anything unknown or malformed."""
        draft = cls()
        for name, allowed in _FIELD_TYPES.items():
            value = data.get(name)
            # bool is an int in Python; an int field must not take True/False and vice versa.
            if type(value) in allowed:
                setattr(draft, name, value)
        if draft.language not in (None, *LANGUAGES):
            draft.language = None
        draft.photos = [photo for photo in map(_photo_from_data, draft.photos) if photo]
        return draft

    def to_data(self) -> dict[str, Any]:
        """The JSON to store (a photo as ``{"file_ref", "size", "content_type"}``)."""
        data = dict(vars(self))
        data["photos"] = [asdict(photo) for photo in self.photos]
        return data

    def clear_answers(self) -> None:
        """Forget the feedback being composed (keeps language and the last reference)."""
        keep = (self.language, self.last_ref)
        self.__dict__.update(vars(Draft()))
        self.language, self.last_ref = keep


def _photo_from_data(data: object) -> PhotoRef | None:
    """A stored photo, or None if the entry is malformed."""
    if not isinstance(data, dict):
        return None
    file_ref, size, content_type = data.get("file_ref"), data.get("size"), data.get("content_type")
    if type(file_ref) is not str or type(size) is not int or type(content_type) is not str:
        return None
    return PhotoRef(file_ref, size, content_type)


_OPTIONAL_STR = (str, type(None))
_OPTIONAL_INT = (int, type(None))
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "language": _OPTIONAL_STR,
    "direct": (bool,),
    "office_id": _OPTIONAL_INT,
    "region": _OPTIONAL_STR,
    "page": (int,),
    "search": _OPTIONAL_STR,
    "category": _OPTIONAL_STR,
    "service_id": _OPTIONAL_INT,
    "rating": _OPTIONAL_INT,
    "criteria": (dict,),
    "criterion": (int,),
    "text": _OPTIONAL_STR,
    "photos": (list,),
    "history": (list,),
    "resume": _OPTIONAL_STR,
    "last_ref": _OPTIONAL_STR,
}
