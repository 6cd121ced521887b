"""Column headers and indicator names of the exports in Kazakh, Russian and English."""

from __future__ import annotations

from vocabulary import LANGUAGES

_LABELS: dict[str, tuple[str, str, str]] = {
    # key: (kk, ru, en)
    "level": ("Деңгей", "Уровень", "Level"),
    "region": ("Өңір", "Регион", "Region"),
    "office": ("ХҚКО", "ЦОН", "Office"),
    "service": ("Қызмет", "Услуга", "Service"),
    "name": ("Атауы", "Название", "Name"),
    "responses": ("Жауаптар", "Ответы", "Responses"),
    "mean_rating": ("Орташа баға", "Средняя оценка", "Mean rating"),
    "csat": ("CSAT (4–5 баға үлесі)", "CSAT (доля оценок 4–5)", "CSAT (share rating 4–5)"),
    "politeness": ("Сыпайылық пен әдеп", "Вежливость и этика", "Politeness and ethics"),
    "waiting": ("Күту уақыты", "Время ожидания", "Waiting time"),
    "information": ("Ақпараттың анықтығы", "Понятность информации", "Clear information"),
    "result": ("Нәтиже алынды", "Результат получен", "Got the result"),
    "no_extra_payment": (
        "Қосымша ақы сұралмады",
        "Доплат не просили",
        "No extra payment asked",
    ),
    "indicator_ethics": (
        "Индикатор: әдеп деңгейіне қанағаттану",
        "Индикатор: удовлетворённость этическим уровнем",
        "Indicator: satisfaction with staff ethics",
    ),
    "indicator_time_efficiency": (
        "Индикатор: жеделдікке қанағаттану",
        "Индикатор: удовлетворённость оперативностью",
        "Indicator: satisfaction with time-efficiency",
    ),
    "indicator_csat": ("Индикатор: CSAT", "Индикатор: CSAT", "Indicator: CSAT"),
    "complaints_share": ("Шағымдар үлесі", "Доля жалоб", "Share of complaints"),
    "complaints": ("Шағымдар", "Жалобы", "Complaints"),
    "tag_rudeness": ("Дөрекілік", "Грубость", "Rudeness"),
    "tag_paperwork_error": ("Құжат қатесі", "Ошибка в документах", "Paperwork error"),
    "tag_hidden_service": ("Жасырын қызмет", "Скрытая услуга", "Hidden service"),
    "tag_corruption": ("Сыбайлас жемқорлық", "Коррупция", "Corruption"),
    "tag_delay": ("Кідіріс", "Задержка", "Delay"),
    "tag_misinformation": ("Қате ақпарат", "Неверная информация", "Misinformation"),
    "tag_digital_service": ("Онлайн қызмет ақауы", "Сбой онлайн-услуги", "Online service failure"),
    "with_text": ("Мәтінмен", "С текстом", "With text"),
    "cases_opened": ("Ашылған істер", "Открыто обращений", "Cases opened"),
    "cases_answered": ("Жауап берілген", "Отвечено", "Cases answered"),
    "cases_resolved": ("Шешілген", "Решено", "Cases resolved"),
    "first_action_hours_mean": (
        "Алғашқы әрекетке дейінгі орташа сағат",
        "Среднее время до первого действия, ч",
        "Mean hours to first action",
    ),
    "csat_base": (
        "CSAT негізі (баға қойылған сапарлар)",
        "База CSAT (визиты с оценкой)",
        "CSAT base (rated visits)",
    ),
    "suppressed": ("Жасырылған (n < шек)", "Скрыто (n < порога)", "Suppressed (n < minimum)"),
    "notes": ("Түсініктеме", "Пояснения", "Notes"),
    "note_responses": (
        "«Жауаптар» — әрбір пікір, тікелей хабарламаларды қоса алғанда (баға қойылмаса да).",
        "«Ответы» — каждый отзыв, включая прямые сообщения (даже без оценки).",
        "“Responses” counts every feedback, direct reports included (rated or not).",
    ),
    "note_csat": (
        "CSAT тек баға қойылған сапарлардан есептеледі («CSAT негізі»); "
        "критерийлер — оған жауап бергендерден.",
        "CSAT считается только по визитам с оценкой («база CSAT»); "
        "критерии — по ответившим на них.",
        "CSAT is computed over rated visits only (“CSAT base”); "
        "each criterion over those who answered it.",
    ),
    "note_suppressed": (
        "«n < {min}» — {min}-ден аз жауабы бар ұяшық немесе оны азайту арқылы "
        "анықтауға болмайтындай жасырылған ұяшық: ешбір сан жарияланбайды.",
        "«n < {min}» — ячейка с менее чем {min} ответами или скрытая, чтобы такую "
        "ячейку нельзя было вычислить вычитанием: никаких чисел не публикуется.",
        "“n < {min}” marks a cell with fewer than {min} responses, or one withheld so "
        "that such a cell cannot be recovered by subtraction: no number is published.",
    ),
    "indicator": ("Индикатор", "Индикатор", "Indicator"),
    "value": ("Мәні", "Значение", "Value"),
    "low": ("95% СА төменгі шегі", "Нижняя граница 95% ДИ", "95% CI low"),
    "high": ("95% СА жоғарғы шегі", "Верхняя граница 95% ДИ", "95% CI high"),
    "baseline": ("Базалық мән", "Базовое значение", "Baseline"),
    "target": ("Мақсат", "Цель", "Target"),
    "status": ("Күйі", "Статус", "Status"),
    "period": ("Кезең", "Период", "Period"),
    "country": ("Ел", "Страна", "Country"),
    "indicators": ("Индикаторлар", "Индикаторы", "Indicators"),
    "met": ("орындалды", "достигнут", "met"),
    "below": ("төмен", "ниже цели", "below target"),
    "unclear": ("анық емес", "неясно", "unclear"),
    "no_target": ("мақсат жоқ", "нет цели", "no target"),
    "no_data": ("дерек жеткіліксіз", "недостаточно данных", "not enough data"),
}


def label(key: str, language: str = "en") -> str:
    """The header of ``key`` in ``language``; ``_low``/``_high`` columns get the bound's name."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 2
    for suffix in ("_low", "_high"):
        if key.endswith(suffix) and key[: -len(suffix)] in _LABELS:
            base = _LABELS[key[: -len(suffix)]][index]
            return f"{base}: {_LABELS[suffix[1:]][index]}"
    entry = _LABELS.get(key)
    return entry[index] if entry else key
