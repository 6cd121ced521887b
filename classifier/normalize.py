"""Text normalisation tuned to how people in Kazakhstan type complaints.

Produces two views of a message:

* the *folded* view (for character n-grams): Kazakh-specific letters folded to their Russian
  look-alikes, Latin-script Kazakh/Russian transliterated to Cyrillic, ``й/щ/э/ё/ь/ъ`` folded,
  so that ``ақша``, ``акша``, ``aqsha`` and ``akwa`` all become ``акша``;
* the *word* view (for word n-grams): the same tokens with negation marks (``NEG_`` prefix on
  tokens in the scope of a negator, including the Kazakh post-positive ``... жоқ`` / ``емес``).

Both views share: Unicode NFKC, case folding, URLs/e-mails/phones/IINs/numbers/city names
replaced by placeholders, emoji mapped to a few classes, 3+ repeated letters squeezed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from vocabulary import personal_data

TranslitMode = Literal["all", "token", "message"]
CharNegMode = Literal["keep", "drop", "mark", "upper"]


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words."""
    return frozenset(text.split())


# --- placeholders -----------------------------------------------------------------------------
URL = "_url_"
EMAIL = "_email_"
PHONE = "_phone_"
IIN = "_iin_"
NUM = "_num_"
CITY = "_city_"

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:kz|ru|com|org|net|gov\.kz|egov\.kz)(?:/\S*)?\b"
)
# The personal-data patterns are the ones the staff panel masks with.
_EMAIL_RE = personal_data.EMAIL
_PHONE_RE = personal_data.PHONE
_IIN_RE = personal_data.IIN
_NUM_RE = re.compile(r"\d+(?:[.,:/]\d+)*")
_SQUEEZE_RE = re.compile(r"([^\W\d_])\1{2,}")
_TOKEN_RE = re.compile(r"_[a-z]+(?:_[a-z]+)*_|[^\W\d_]+(?:['-][^\W\d_]+)*|[.,!?;:()\"«»—]")

# --- emoji ---------------------------------------------------------------------------------
_EMOJI_CLASSES: dict[str, str] = {}
for _cls, _chars in {
    "_emo_angry_": "😡🤬😠😤👿💢👊🖕",
    "_emo_sad_": "😭😢😞😔😩😫😥😿☹🙁😣😖💔😪😓🥺🥲",
    "_emo_dismay_": "🤦🤷🙄😒😑😐🤨😬😳😱🤯😵😶🤔😕😟🤡💩🙈",
    "_emo_happy_": "👍🙏😊🙂😀😃😄😁❤♥💕🥰😍👏✨🌟⭐💯🤗☺😌✅💐🌹🎉👌💪😇😉",
    "_emo_money_": "💰💵💸🤑💴💶💷🪙💳🎁",
    "_emo_time_": "⏰⏳⌛⌚🕐🕑🕒🕓🕔🕕🕖🕗🕘🕙🕚🕛🐢🐌💤😴🥱",
}.items():
    for _ch in _chars:
        _EMOJI_CLASSES[_ch] = _cls
_EMOJI_RE = re.compile(
    "(?:[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\u231a\u231b\u23e9-\u23fa\u2934\u2935]"
    "[\ufe0f\u200d\U0001f3fb-\U0001f3ff\u2640\u2642]*)+"
)


def _emoji_sub(match: re.Match[str]) -> str:
    classes: list[str] = []
    for ch in match.group(0):
        cls = _EMOJI_CLASSES.get(ch)
        if (
            cls is None
            and ord(ch) >= 0x2300
            and ch not in "\ufe0f\u200d\u2640\u2642"
            and not 0x1F3FB <= ord(ch) <= 0x1F3FF
        ):
            cls = "_emo_other_"
        if cls and (not classes or classes[-1] != cls):
            classes.append(cls)
    return " " + " ".join(classes) + " "


# --- letters -------------------------------------------------------------------------------
_CYR = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі")
_LAT = frozenset("abcdefghijklmnopqrstuvwxyzäáğǵñńöóūüúýışç'")

_FULL_FOLD = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
        "й": "и",
        "щ": "ш",
        "э": "е",
        "ь": None,
        "ъ": None,
    }
)
# Latin homoglyphs typed inside otherwise Cyrillic words ("Aлматы" with a Latin A).
_HOMOGLYPHS = str.maketrans(
    {
        "a": "а",
        "e": "е",
        "o": "о",
        "p": "р",
        "c": "с",
        "x": "х",
        "y": "у",
        "k": "к",
        "m": "м",
        "t": "т",
        "h": "н",
        "b": "в",
        "i": "і",
    }
)

# Latin-script Kazakh (official 2017/2018/2021 alphabets and informal typing) and Russian.
_LAT_PRE = [
    ("g'", "г"),
    ("o'", "о"),
    ("u'", "у"),
    ("a'", "а"),
    ("n'", "н"),
    ("s'", "ш"),
    ("c'", "ч"),
    ("i'", "ы"),
    ("i\u0307", "и"),
]
_LAT_PRE_TABLE = str.maketrans(
    {
        "ä": "а",
        "á": "а",
        "ğ": "г",
        "ǵ": "г",
        "ñ": "н",
        "ń": "н",
        "ö": "о",
        "ó": "о",
        "ū": "у",
        "ü": "у",
        "ú": "у",
        "ý": "у",
        "ı": "ы",
        "ş": "ш",
        "ç": "ч",
        "'": None,
    }
)
_LAT_MULTI = {
    "shch": "ш",
    "sch": "ш",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "ya": "я",
    "yu": "ю",
    "yo": "е",
    "ye": "е",
}
_LAT_SINGLE = {
    "a": "а",
    "b": "б",
    "c": "ц",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "ж",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "ш",
    "x": "х",
    "y": "ы",
    "z": "з",
}
_LAT_MAP = {**_LAT_MULTI, **_LAT_SINGLE}
_LAT_RE = re.compile("shch|sch|sh|ch|zh|kh|ts|ya|yu|yo|ye|[a-z]")

# Common English words: kept as English in "token" mode, and used to spot English messages.
# Words that are also frequent Kazakh Latin words (men, bar, at, tur, kim, ana ...) are left out.
ENGLISH_WORDS = _words(
    """
    one two three four five six seven eight nine ten first second third fourth fifth hours
    minutes weeks months days year years today tonight line lines waited waiting nothing
    still again another other others different same wrong right correct asked answer answered
    reply said told tells says say came come back home gone went go goes going left leave
    took take taken give gave given got get gets getting made make makes making wanted want
    needs need needed required require only just also very really so too much more less
    lady man woman guy girl guard manager operator operators consultant specialist clerk desk
    counter hall building entrance door floor room office centre center psc con tson queue
    application applications form forms paper papers certificate certificates card id
    passport licence license registration registered register apply applied submit submitted
    rude shouting yelling screaming laughed smiled ignored phone call calling called chatting
    lunch break pay paid paying payment cash money tenge bribe bribes gift envelope receipt
    official officially free legal illegal extra fee fees service services company private
    partner notary insurance photo studio translation translator clinic medical doctor
    mother father son daughter wife husband child kids baby grandma grandpa family people
    everyone everybody someone somebody anyone anybody nobody thank thanks please sorry hello
    great good bad terrible awful horrible nice kind polite helpful quick fast slow long
    short late early ready broken working work works worked system down online website app
    lost lose losing mistake mistakes error errors typo spelled spelt name surname birth date
    address number mixed fixed fix sent send sending told tell why how what when where who
    which whose whom because although though however while during before after until since
    about above below between into onto upon within without through across around near next
    their there they them then than this that these those here were was are is be been being
    has have had having do does did done doing can could would should will shall may might
    must i me my mine we us our ours you your yours he him his she her hers it its itself
    a about after again all also always am an and any anyone anything are around as asked
    ask asking away back be because been before being between both but by came can cannot
    can't center centre come could couldn't day days did didn't didnt do does doesn't
    doing don't dont done down each even ever every everything for from get gave give
    given go going got had has hasn't have haven't having he her here him his how however
    i i'm if in into it it's its just know last like made make many may me more most much
    must my need needed never new next nobody none nor not nothing now of off office ok
    okay one only or other our out over paid pay people please said same say says see she
    should so some someone something still such take than thank thanks that the their them
    then there these they thing this those though through time to today told too took two
    under until up us very wait waited waiting want was wasn't way we week weeks went were
    weren't what when where which while who whole why will window with without won't would
    wouldn't yes yet you your hour hours minutes money bribe queue staff employee officer
    guard document documents passport certificate wrong name rude shouted ticket tickets
    line morning after afternoon tomorrow yesterday again extra fee fees cash envelope
    gift because asked told said demanded offered wanted nobody someone
    """
)
_EN_FUNCTION = _words(
    """
    the and was were is are to of for my me i it that this they he she with at in on but
    not did didn't have had been be you we our their them from by an a
    """
)

# --- negation ------------------------------------------------------------------------------
NEG_PREFIX = "NEG_"
_PRE_NEGATORS_FOLDED = _words(
    """
    не нет ни никто ничего никаких никакои никакие никакого никакая никакую никому никого
    нисколько никогда ничем нигде никуда ниче нече ешким ешкимге ешкимде ешкимнен ешкандаи
    ешнарсе ешбир ешкашан ештене ештеме ешкаида
    """
)
_EN_NEGATORS = _words(
    """
    not no never nobody nothing none neither nor noone without cannot can't didn't didnt
    don't dont doesn't doesnt wasn't wasnt weren't werent isn't isnt aren't arent haven't
    havent hasn't hasnt won't wont couldn't couldnt wouldn't wouldnt shouldn't shouldnt
    hadn't hadnt ain't cant nowhere
    """
)
_POST_NEGATORS_FOLDED = frozenset({"жок", "жокпын", "жокпыз", "жокты", "жоктыгы"})
_POST_NEG_PREFIXES = ("емес",)
# Kazakh verbs negated by the -ма/-ме/-ба/-бе/-па/-пе suffix (бермедім, сұрамады, алмаған,
# төлемейді): like жоқ they negate the words before them ("пара бермедім"). Folded forms.
_KZ_NEG_VERB_RE = re.compile(
    r"\w{2,}(?:ма|ме|ба|бе|па|пе)(?:ды|ди|дым|дим|дык|дик|дыныз|диниз|ган|ген|гам|гем"
    r"|иды|иди|имын|имин|имыз|имиз|итын|итин)$"
)
_CONTRAST_FOLDED = _words(
    """
    но а однако зато хотя бирак алаида дегенмен тек просто только сосын потом кеиин
    """
)
_EN_CONTRAST = frozenset({"but", "however", "though", "although", "instead", "yet", "then"})
_BOUNDARY = frozenset('.,!?;:()"«»—')
PRE_SCOPE = 4
SHORT_SCOPE = 2
_SHORT_NEGATORS = frozenset({"не", "ни"})
POST_SCOPE = 3

# --- cities ---------------------------------------------------------------------------------
_CITY_STEMS = (
    "алмат",
    "алма-ат",
    "астан",
    "нур-султан",
    "нурсултан",
    "шымкент",
    "чимкент",
    "караганд",
    "актоб",
    "тараз",
    "павлодар",
    "усть-камен",
    "оскемен",
    "семипалат",
    "атырау",
    "костана",
    "кызылорд",
    "уральск",
    "петропавл",
    "актау",
    "темиртау",
    "туркестан",
    "кокшетау",
    "талдыкорган",
    "екибастуз",
    "жезказган",
    "конаев",
    "капшага",
    "рудны",
    "балхаш",
    "балкаш",
    "сатпаев",
    "кентау",
    "жанаозен",
    "аркалык",
    "степногорск",
    "шучинск",
    "бурабаи",
    "жетысаи",
    "аягоз",
    "талгар",
    "каскелен",
    "есик",
    "сарыагаш",
    "кульсары",
    "байконыр",
    "байконур",
    # Latin spellings kept in English messages
    "almat",
    "alma-at",
    "astan",
    "nur-sultan",
    "nursultan",
    "shymkent",
    "chimkent",
    "karagand",
    "qaragand",
    "aktob",
    "aqtob",
    "taraz",
    "pavlodar",
    "ust-kamen",
    "oskemen",
    "semey",
    "semei",
    "atyrau",
    "kostana",
    "qostana",
    "kyzylord",
    "qyzylord",
    "uralsk",
    "petropavl",
    "aktau",
    "aqtau",
    "temirtau",
    "turkistan",
    "turkestan",
    "kokshetau",
    "taldykorgan",
    "ekibastuz",
    "zhezkazgan",
    "konaev",
    "kapshaga",
    "rudny",
    "balkhash",
    "satpaev",
    "satpayev",
    "kentau",
    "zhanaozen",
    "arkalyk",
    "stepnogorsk",
    "kulsary",
    "oral$",
)
_CITY_RE = re.compile(
    "^(?:" + "|".join(re.escape(s).replace("\\$", "$") for s in _CITY_STEMS) + ")"
)

# --- durations and repeated visits ----------------------------------------------------------
# "3 сағат", "two hours", "полтора часа" -> c:duration; "5 рет", "третий раз", "3 times" ->
# c:repeat (a cue for delays that the numbers themselves, being placeholders, no longer give).
_NUMBER_WORDS = _words(
    """
    _num_ один одна два две три четыре пять шесть семь восемь девять десять полтора пол пару
    несколько бир еки уш торт бес алты жети сегиз тогыз он жиырма отыз кырык елу бирнеше
    one two three four five six seven eight nine ten several few couple второи третии
    четвертыи пятыи шестои екинши ушинши тортинши бесинши second third fourth fifth th
    """
)
_DURATION_UNITS = (
    "час",
    "сагат",
    "минут",
    "мин",
    "ден",
    "дня",
    "дне",
    "сутк",
    "кун",
    "недел",
    "апта",
    "месяц",
    "мес",
    "hour",
    "min",
    "day",
    "week",
    "month",
    "year",
    "год",
    "лет",
    "жыл",
    "аидан",
    "аига",
    "аи",
)
_REPEAT_UNITS = ("рет", "раз", "time", "visit", "келу", "келдим", "барды")


# --- concept lexicon -----------------------------------------------------------------------
# Hand-made cross-lingual cues: each stem (prefix match; "=" suffix: exact word) adds a concept
# token ``c:<name>`` to the word view, so what is learnt from Russian carries over to Kazakh and
# English. Cyrillic stems are folded at import like the text is.
_CONCEPT_STEMS: dict[str, str] = {
    "bribe": """hint thank-them thank-him thank-her small-thank good-person be-nice extra-for
        solution= works-with
        на-чай угост стимулир заинтерес договорим договоримс договоритьс договорилис
        по-человечески решаем= решаемы решим= решить-вопрос вопрос-решаем риза ризашыл
        рахмет-айтсаң рахмет-аитсан түсінесіз тусинесиз түсінесің тусинесин түсінген тусинген
        понимаете= поняли= понимаешь= сами-понимаете ишара ишарат ымдап карман кармашк
        наличн налом себе= өзіне= озине= коньяк шоколад торт= шампан конфет сүйінші
        суиинши көрімдік коримдик gratitude present= presents= respect nice-to forget-about
        cut= chocolate cognac sweets unless speed-up pull-strings vzyatka
        взятк взяточ бакшиш откат отблагодар магарыч конверт лапу= на-лапу мзд
        шай-пұл шайпұл шай-пул шаипул шайпул сыйлық сыйлы= сыйақ подарок подарк подарочк
        ақшасын= пара= параны= парасы= пара-= параға= парақор ымда намек намёк намекн
        ускорить ускорени ускорим быстрее тездет тезірек
        bribe briber envelope gift kickback underthetable tip= tips= thank-you
        vzyatk """,
    "money": """деньг денег денеж акша ақша ақшал тенге теңге тнг= тг= тыс= тысяч мың= мыңға
        мыңды штук= косарь рубл долл плат доплат оплат заплат төле төлеңіз төлед төлесе
        сатып продаю продаёт продает купить покуп ₸ money cash paid pay= pays= paying
        tenge tg= kzt= thousand dollars card= """,
    "third_party": """clinic assistant recommend express deal= клиник
        нотариус нотариал партнер партнёр посредник делдал студи фотосалон
        фотоателье страхов сақтандыр сугурта сүғурта полис переводч перевод аударм
        консультац консалт бюро агентств фирм компани ксерокс кассир услуг қызмет-ақ
        платн ақылы акылы obligatory mandatory notary partner studio insurance intermediar
        translat consult agency agent kiosk broker premium package helper fixer""",
    "obligatory": """обязательн обязан надо= нужно= без= иначе міндетті миндетти керек= қажет
        болмаса әйтпесе must= required require only= otherwise without""",
    "rude": """blind stupid idiot sighed shut= yelled screamed rolled-her rolled-his
        матер мат= дура дурак идиот тупо тупая быдло понаехали деревн рявк цыкн фыркн
        закатил вытолк толкн итерді итерди шық= шык= кет= заткн закрои ты= сен= сені= сени=
        саған= саган= отвернул eye-roll eyeroll rolled sarcas talking-down shut-up get-out
        seeds gum сағыз сагыз семечк не-слуша тыңдамады тындамады не-смотр қарамай карамаи
        голос= повысил повысила дауыс крикнул
        хам хамк хамил груб нагруб крич накрич орала= оралa наорал визж оскорб униж унизи
        издева швырн швыря кинул бросил брос послал= посылал огрыза огрызн рявкн нахал
        пренебреж игнор презрен смея смеял ржал насмех высмея тыка тыкал
        дөрекі дорекі айқай айғай ұрсы урсы зекі кемсіт кемсит мазақ мазак күлд кулд
        лақтыр лактыр менсінбе менсинбе елемеді елемей қарамады карамады ұялт
        rude shout yell scream insult humiliat mock laugh ignor snap threw throw smirk
        disrespect contempt arrogan""",
    "phone": """lunch break= перерыв
        телефон смартфон переписыва сидит= болтал болтает чай= шай= обед
        сплетн phone chatting chatted snack scroll instagram tiktok whatsapp""",
    "wait": """appointment booked booking stuck held-up slow= days= served-at
        очеред очередь кезек ожида жду ждал ждать ждём ждем подожд простоя стоял
        күт кут= күттім күттік күтіп күтеміз талон wait queue line= lines= ticket
        hours= hour= сағат сагат часа= часов= час= полчаса минут minutes""",
    "late": """долг долго задерж затян опоздал просроч срок мерзім мерзим кешік кешик кеш=
        недел апта месяц month week= weeks= завтра ертең ертен tomorrow
        не-готов дайын-емес готова= готов= ready= delay late= overdue still=""",
    "broken": """систем база= базы= сбой не-работ сломал сломан завис глюч жұмыс-істемей
        істемейді истемеиди істемей истемеи жоқ-база system down= broken offline electricity
        свет= интернет internet server сервер""",
    "error": """ошибк ошибоч ошиблись опечат перепут неправильн неверн кривo искажен
        қате кате қателе кателе mistake error wrong typo misspel mixed incorrect
        swapped spelt spelled""",
    "data_field": """фамили имя= имени отчеств дат= дата рожден рождени иин адрес мекенжай
        туған туган аты= тегі теги жылым жылы= surname name= birth address iin date=
        gender nationality photo""",
    "lost": """потерял потеря утерян утеряли пропал пропали жоғалт жогалт жоғалып жогалып
        тіркелмеген тиркелмеген не-зарегистр незарегистр lost lose losing missing
        disappear vanished""",
    "foreign": """чуж чужой чужие чужого басқа-біреу баска-биреу біреудің биреудин
        someone-else somebody-else stranger""",
    "contradict": """opposite differently contrary one-said другой-сказал другая-сказала
        второй-сказал
        другое другой другая другие разное разные по-разному противореч
        одно= одном= бір-түрлі бир-турли басқаша баскаша екіншісі екиншиси басқа= баска=
        different another contradict other= others= conflicting""",
    "sent_away": """отправил отправили послали направил направили футбол гоняют
        жіберді жиберди жібереді жибереди жібер жибер шарла доп= sent= send= redirect
        bounce ping""",
    "uninformed": """nobody-knew no-one noone didnt-mention never-mentioned wasnt-told not-told
        no-information couldnt-answer cant-answer could-not answered-wrong wrong-answer
        wrong-window wrong-office wrong-list wrong-place insufficient misinform misled mislead
        confus contradictory не-смогли не-смогла не-смог не-объяснил не-объяснили не-подсказ
        дезинформ заблужд путают запута шатастыр шатасты дұрыс-айтпады дурыс-аитпады
        не-знает не-знал никто-не-знает незнал непонятн не-объясн не-сказал
        не-предупред білмейді билмеиди білмеймін билмеимин түсіндірмеді тусиндирмеди
        айтпады айтпаиды nobody-knows didnt-know didn't-know unclear mentioned informed
        hotline колл-центр call-center справочн information info= list= список тізім тизим""",
    "praise": """спасиб благодарю благодарн рахмет рақмет алғыс алгыс молодц отлично хорошо
        вежлив быстро оперативн сыпайы сыпаиы жақсы жаксы тез= керемет thank thanks great
        polite quick fast excellent perfect helpful grateful appreciate kind= nice""",
    "suggest": """предлож пожелан хотелось поставьте сделайте добавьте нужен= нужна= нужны=
        парковк пандус кулер стуль детск орындық орындык пандус паркинг parking ramp
        cooler chairs suggest suggestion wish""",
    "queue_jump": """без-очеред вне-очеред кезексіз кезексиз кезектен-тыс алға-өткіз алга-откиз
        skip-the priority ahead= jump= cut-the""",
    "turned_out": """оказал оказыва выяснил выясни екен= екенін екенин білсем билсем естісем естисем
        кейін-білсем turns= turned= found-out later= actually apparently""",
    "lie": """обман врут врал лгут лжёт ложн отирик өтірік алдады алдап lie= lied lying false
        fake= зря бекер впустую в-пустую for-nothing""",
    "impose": """навяз заставил заставля вынуд предложил предлага ұсынды усынды ұсынады усынады
        сатып-ал купить купи= продали продаж частн жекеменшік жекеменшик киоск
        сбор= сбора комисси чек= чека квитанц receipt extra= fee= fees= charge charged
        impose forced pushed offered sold= sell= private""",
    "free_official": """официальн ресми стандарт бесплатн тегін тегин госпошлин пошлин баж=
        official standard free= duty= legal= законн заңды занды""",
    "come_back": """приходите приходи= придите вернит вернуть келіңіз келиниз келіңіздер
        келиниздер кел= come-back come= came= return again= снова опять тағы= тагы=
        қайта= каита= қайтадан каитадан повторно раз= рет= third= второи= третии""",
    "redo": """переделы передела исправ түзет тузет өзгерт озгерт redo correct= fix= fixed
        reissue перевыпуск замен переоформ қайта-жаса каита-жаса""",
    "question": """подскажите подскажи можно-ли как= где= куда= қайда= каида= қандай кандаи
        бола-ма керек-пе ма= ме= ба= бе= па= пе= ли= how= where= can-i is-it does= do-i
        what= which= whether""",
    "online": """егов egov егов-тан приложени қосымша косымша сайт портал app= website
        portal sms= смс код= online онлайн онлаин onlain mgov колданба қолданба""",
    "signature": """эцп ецп эцқ ецк ецқ eds= ecp= euq= eüq ncalayer нкалеиер сертификат
        certificate кілт= килт= ключ= key= signature signing= подпис подписа қолтаңба колтанба
        қол-қою кол-кою""",
    "verify": """биометр biometr face= selfie селфи лицо= лица= камер camera видеоидент
        видеоверифи видеозвон видео-тексер бейне-тексер бейнетексер тұлға= тулга= тұлғаны
        тулганы identity verification верифик идентифик распозна танымаиды танымайды""",
    "login": """пароль парол= parol password құпиясөз купиясоз логин login log= logged войти
        вход= кіре= кире= кіру= киру= kiru= kire= otp one-time бір-реттік бир-реттик
        учетн account аккаунт""",
    "app_fault": """вылета выкидыва вылетел завис зависл не-открыва не-загруж не-грузит
        ашылмаи ашылмады ашылмаиды aşylmaidy ashylmaidy жүктелмеи жуктелмеи жүктелмеди
        crash crashes crashed freezes frozen spinner splash недоступ колжетимсиз
        колжетимди-емес unavailable timeout times-out обновлени жанарту жаңарту update
        updated reinstal переустанов глючит capcha captcha капча""",
    "booking": """записал записалась запись= записи= жазылдым жазылу жазылып жазылуым
        zhazyldym zhazylu slot= slots= слот calendar календар""",
    "not_needed": """not-needed not-required isnt-required wasnt-needed no-need не-нужн не-требу
        не-обязат керек-емес қажет-емес кажет-емес міндетті-емес миндетти-емес
        needed= required= нужна= нужен= нужно= требует требуется керек= қажет=""",
    "to_self": """себе= лично личн өзіне= озине= өзіме= озиме= herself himself personally pocket
        карман кармашк налом наличн наличк cash= card-number номер-карт""",
}


def _build_concepts() -> tuple[
    dict[str, str], dict[str, str], tuple[int, ...], dict[str, tuple[tuple[str, str], ...]]
]:
    """Index the lexicon: prefix stems, exact words, prefix lengths, and two-word stems."""
    prefixes: dict[str, str] = {}
    exact: dict[str, str] = {}
    pairs: dict[str, list[tuple[str, str]]] = {}
    for concept, stems in _CONCEPT_STEMS.items():
        for raw in stems.split():
            is_exact = raw.endswith("=")
            stem = raw.rstrip("=").casefold().replace("'", "")
            key = stem if is_latin(stem.replace("-", "")) else fold(stem)
            (exact if is_exact else prefixes).setdefault(key, concept)
            if "-" in key:
                first, second = key.split("-", 1)
                if first and second and "-" not in second:
                    pairs.setdefault(first, []).append((second, concept))
    return (
        prefixes,
        exact,
        tuple(sorted({len(p) for p in prefixes}, reverse=True)),
        {k: tuple(v) for k, v in pairs.items()},
    )


def concepts_of(token: str) -> str | None:
    """The lexicon concept a folded token belongs to, if any (exact word, else longest stem)."""
    hit = _CONCEPT_EXACT.get(token)
    if hit is not None:
        return hit
    n = len(token)
    for length in _CONCEPT_LENGTHS:
        if n >= length:
            hit = _CONCEPT_PREFIX.get(token[:length])
            if hit is not None:
                return hit
    return None


def pair_concept(first: str, second: str) -> str | None:
    """The concept of a two-word stem (``first`` exact, ``second`` by prefix), if any."""
    for prefix, concept in _CONCEPT_PAIRS.get(first, ()):
        if second.startswith(prefix):
            return concept
    return None


def _base(text: str) -> str:
    """NFKC + case folding + placeholders + emoji classes (shared by both views)."""
    s = unicodedata.normalize("NFKC", text).casefold()
    if "'" in s or "’" in s or "‘" in s or "`" in s or "ʼ" in s:
        s = s.replace("’", "'").replace("‘", "'").replace("`", "'").replace("ʼ", "'")
    if "http" in s or "www" in s or ("." in s and _DOMAIN_HINT_RE.search(s)):
        s = _URL_RE.sub(f" {URL} ", s)
    if "@" in s:
        s = _EMAIL_RE.sub(f" {EMAIL} ", s)
    if _DIGIT_RE.search(s):
        s = _NUMERIC_RE.sub(_numeric_sub, s)
    if s and max(s) >= "\u2300":
        s = _EMOJI_RE.sub(_emoji_sub, s)
    return s


_DIGIT_RE = re.compile(r"\d")
_NUMERIC_RE = re.compile(
    f"(?P<phone>{_PHONE_RE.pattern})|(?P<iin>{_IIN_RE.pattern})|(?P<num>{_NUM_RE.pattern})"
)
_NUMERIC_REPL = {"phone": f" {PHONE} ", "iin": f" {IIN} ", "num": f" {NUM} "}


def _numeric_sub(match: re.Match[str]) -> str:
    return _NUMERIC_REPL[match.lastgroup or "num"]


_DOMAIN_HINT_RE = re.compile(r"\.(?:kz|ru|com|org|net)\b")


def tokenize(text: str) -> list[str]:
    """Split normalised text into words, placeholders and boundary punctuation."""
    return _TOKEN_RE.findall(text)


def is_latin(token: str) -> bool:
    """True when every character of the token belongs to the (extended) Latin alphabet."""
    return bool(token) and _LATIN_TOKEN_RE.fullmatch(token) is not None


_LATIN_TOKEN_RE = re.compile("[" + re.escape("".join(sorted(_LAT))) + "\\-\u0307]+")


def transliterate(token: str) -> str:
    """Transliterate one Latin-script Kazakh/Russian token to Russian-style Cyrillic.

    Handles informal digraphs (sh, ch, zh, kh, ts, ya, yu, ye), ``w`` typed for ``ш``, the
    apostrophe (``g'``, ``o'``) and acute/breve (``ǵ``, ``ń``, ``ó``, ``ú``, ``ı``) Kazakh
    Latin alphabets, and ``q`` for ``қ``. Kazakh letters come out already folded (``q``→``к``).
    """
    s = token.casefold()
    if "'" in s or "\u0307" in s:
        for src, dst in _LAT_PRE:
            if src in s:
                s = s.replace(src, dst)
    s = s.translate(_LAT_PRE_TABLE)
    return _LAT_RE.sub(lambda m: _LAT_MAP[m.group(0)], s)


def fold(token: str) -> str:
    """Fold one Cyrillic token: Kazakh letters to look-alikes, ё/й/щ/э folded, ь/ъ dropped."""
    return token.translate(_FULL_FOLD)


def looks_english(tokens: Iterable[str]) -> bool:
    """Heuristic: the Latin tokens of the message are mostly English words."""
    n_latin = hits = known = 0
    cache = _EN_KIND_CACHE
    for tok in tokens:
        kind = cache.get(tok)
        if kind is None:
            kind = _english_kind(tok)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[tok] = kind
        if kind:
            n_latin += 1
            known += bool(kind & 2)
            hits += bool(kind & 4)
    if not n_latin:
        return False
    return (
        (hits >= 2 and known >= 0.3 * n_latin)
        or (known >= 2 and known >= 0.5 * n_latin)
        or (n_latin == 1 and known == 1)
    )


def _english_kind(token: str) -> int:
    """Bits: 1 a Latin word, 2 a common English word, 4 an English function word (0: neither)."""
    if token[0] == "_" or not is_latin(token):
        return 0
    return 1 | (2 if token in ENGLISH_WORDS else 0) | (4 if token in _EN_FUNCTION else 0)


# token flags
_PRE = 1
_SHORT = 2
_POST = 4
_STOP = 8
_SKIP = 16  # boundary punctuation or placeholder: never negated, never a concept


def english_stem(word: str) -> str:
    """A light English suffix stripper (waited/waiting/waits -> wait) for the word view."""
    for suffix in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_EN_SUFFIXES = ("ingly", "edly", "ing", "ies", "ed", "es", "ly", "s")


@lru_cache(maxsize=1 << 18)
def token_info(token: str, keep_latin: bool) -> tuple[str, int, str | None, str]:
    """Folded form, negation/stop flags, lexicon concept and word-view form of one token.

    Cached. ``keep_latin``: leave a Latin token as it is (English, light-stemmed in the word
    view) instead of transliterating it.
    """
    if token[0] == "_":
        return token, _SKIP | (_STOP if token.startswith("_emo") else 0), None, token
    if token in _BOUNDARY:
        return token, _SKIP | _STOP, None, token
    if len(token) > 2:
        token = _SQUEEZE_RE.sub(r"\1", token)
    if is_latin(token):
        folded = token.replace("'", "") if keep_latin else fold(transliterate(token))
    else:
        if _HAS_LATIN_RE.search(token):
            token = token.translate(_HOMOGLYPHS)
        folded = fold(token)
    folded = folded or token
    if _CITY_RE.match(folded):
        return CITY, _SKIP, None, CITY
    flags = 0
    if folded in _PRE_NEGATORS_FOLDED or token in _EN_NEGATORS or folded in _EN_NEGATORS:
        flags |= _PRE | (_SHORT if folded in _SHORT_NEGATORS else 0)
    elif (
        folded in _POST_NEGATORS_FOLDED
        or folded.startswith(_POST_NEG_PREFIXES)
        or (not keep_latin and _KZ_NEG_VERB_RE.match(folded))
    ):
        flags |= _POST
    if folded in _CONTRAST_FOLDED or token in _EN_CONTRAST:
        flags |= _STOP
    word = english_stem(folded) if keep_latin and is_latin(folded) else folded
    return folded, flags, concepts_of(folded), word


_HAS_LATIN_RE = re.compile("[a-z]")


_CACHE_MAX = 1 << 18
_EN_KIND_CACHE: dict[str, int] = {}
_INFO_CACHE: dict[bool, dict[str, tuple[str, int, str | None, str]]] = {False: {}, True: {}}


def _infos(tokens: list[str], mode: TranslitMode) -> list[tuple[str, int, str | None, str]]:
    if mode == "message":
        keep = looks_english(tokens)
        cache = _INFO_CACHE[keep]
        get = cache.get
        out = []
        for t in tokens:
            info = get(t)
            if info is None:
                info = token_info(t, keep)
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[t] = info
            out.append(info)
        return out
    if mode == "token":
        return [token_info(t, t in ENGLISH_WORDS) for t in tokens]
    return [token_info(t, False) for t in tokens]


def _scope(flags: list[int]) -> list[bool]:
    n = len(flags)
    neg = [False] * n
    if not any(f & (_PRE | _POST) for f in flags):
        return neg
    for i, f in enumerate(flags):
        if f & _PRE:
            limit = SHORT_SCOPE if f & _SHORT else PRE_SCOPE
            j = i + 1
            while j < n and j - i <= limit:
                g = flags[j]
                if g & (_STOP | _PRE | _POST):
                    break
                neg[j] = True
                j += 1
        elif f & _POST:
            j = i - 1
            while j >= 0 and i - j <= POST_SCOPE:
                g = flags[j]
                if g & (_STOP | _POST):
                    break
                if not g & _PRE:
                    neg[j] = True
                j -= 1
    for i, f in enumerate(flags):
        if f & (_SKIP | _PRE | _POST):
            neg[i] = False
    return neg


def normalize(text: str) -> str:
    """The normalised (not folded) text: NFKC, case folding, placeholders, squeezing, emoji."""
    return " ".join(_SQUEEZE_RE.sub(r"\1", t) if t[0] != "_" else t for t in tokenize(_base(text)))


def views(
    text: str,
    mode: TranslitMode = "message",
    char_neg: CharNegMode = "keep",
    concepts: bool = True,
    stem: int = 0,
) -> tuple[str, str]:
    """Return ``(char_view, word_view)`` for one message.

    ``char_view``: folded, transliterated words separated by spaces (for char_wb n-grams);
    negated words are kept, dropped, ``~``-marked or upper-cased (so that their character
    n-grams are features of their own) according to ``char_neg``.
    ``word_view``: folded tokens with ``NEG_`` marks, plus ``?`` and ``!``; with ``concepts``
    also a ``c:<concept>`` token per lexicon hit; with ``stem`` > 0 words are cut to that length.
    """
    tokens = tokenize(_base(text))
    if not tokens:
        return "", ""
    infos = _infos(tokens, mode)
    scope = _scope([info[1] for info in infos])
    chars: list[str] = []
    words: list[str] = []
    prev = ""
    prev_number = False
    for (fol, flags, concept, word), neg in zip(infos, scope, strict=True):
        if flags & _SKIP:
            if fol in _BOUNDARY:
                if (fol == "?" or fol == "!") and (not words or words[-1] != fol):
                    words.append(fol)
                prev = ""
                prev_number = False
                continue
            words.append(fol)
            chars.append(fol)
            prev = ""
            prev_number = fol == NUM
            continue
        mark = NEG_PREFIX if neg else ""
        words.append(mark + (word[:stem] if stem else word))
        if prev_number and concepts:
            if fol.startswith(_DURATION_UNITS) and (len(fol) > 2 or fol == "аи"):
                words.append("c:duration")
            elif fol.startswith(_REPEAT_UNITS):
                words.append("c:repeat")
        prev_number = fol in _NUMBER_WORDS
        if concepts:
            if concept is not None:
                words.append(mark + "c:" + concept)
            if prev and prev in _CONCEPT_PAIRS:
                concept2 = pair_concept(prev, fol)
                if concept2 is not None and concept2 != concept:
                    words.append("c:" + concept2)
        prev = fol
        if not neg or char_neg == "keep":
            chars.append(fol)
        elif char_neg == "upper":
            chars.append(fol.upper())
        elif char_neg == "mark":
            chars.append("~" + fol)
    return " ".join(chars), " ".join(words)


_CONCEPT_PREFIX, _CONCEPT_EXACT, _CONCEPT_LENGTHS, _CONCEPT_PAIRS = _build_concepts()
