"""The texts sent to the staff chat, from the panel's catalog, in the staff chat's language.

Staff read the same catalog as the panel (``admin/locales``); the chat's language is a setting,
not any one staff member's choice. The texts carry no personal data: references, counts, links.
"""

from __future__ import annotations

from admin.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogs


class StaffTexts:
    """Staff-chat texts in one language (an unknown one falls back to the panel's default)."""

    def __init__(self, language: str = DEFAULT_LANGUAGE, catalogs: Catalogs | None = None) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.gettext = (catalogs or Catalogs()).get(self.language).gettext

    def alert(self, *, direct: bool, ref: str, office: str, tags: str, link: str) -> str:
        """The alert on a corruption report (``direct``) or a complaint tagged as corruption."""
        if direct:
            template = self.gettext(
                "⚠️ Corruption report %(ref)s\nOffice: %(office)s\nTags: %(tags)s\nCase: %(link)s"
            )
        else:
            template = self.gettext(
                "⚠️ Complaint tagged as corruption %(ref)s\n"
                "Office: %(office)s\nTags: %(tags)s\nCase: %(link)s"
            )
        return template % {"ref": ref, "office": office, "tags": tags, "link": link}

    def overdue(self, count: int, listed: str, unlisted: int, queue_url: str) -> str:
        """The hourly reminder: how many cases are overdue, the first of them, the queue."""
        more = self.gettext(" and %(count)d more") % {"count": unlisted} if unlisted else ""
        line = self.gettext("Overdue cases: %(count)d. %(listed)s%(more)s.") % {
            "count": count,
            "listed": listed,
            "more": more,
        }
        return f"{line}\n{queue_url}"

    def digest_title(self, last_day: str) -> str:
        """The weekly digest's first line."""
        return self.gettext("Pikir, the week to %(date)s") % {"date": last_day}

    def digest_responses(self, shown: str) -> str:
        """How many responses came in (or only the small-number mark)."""
        return self.gettext("Responses: %(count)s") % {"count": shown}

    def digest_csat(self, value: float, low: float, high: float) -> str:
        """The satisfaction share with its 95 % interval."""
        return self.gettext("CSAT: %(value)s (95%% CI %(low)s–%(high)s)") % {
            "value": f"{value:.1%}",
            "low": f"{low:.1%}",
            "high": f"{high:.1%}",
        }

    def digest_tags(self, named: str) -> str:
        """The tags of the week with their counts."""
        return self.gettext("Tags: %(tags)s") % {"tags": named}

    def digest_cases(self, opened: int, closed: int) -> str:
        """Cases opened and closed in the week."""
        return self.gettext("Cases opened: %(opened)d, closed: %(closed)d") % {
            "opened": opened,
            "closed": closed,
        }

    def digest_overdue(self, count: int) -> str:
        """Open cases past their due time now."""
        return self.gettext("Overdue now: %(count)d") % {"count": count}
