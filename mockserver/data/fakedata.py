"""Realistic, schema-valid fake values for the fields of Clio records.

:class:`ValueFaker` turns ``(model, field, schema)`` into a value that validates against
the (fully resolved) JSON schema and looks like something a law firm would have typed
into Clio: person and company names, matter descriptions such as ``"Smith - Divorce"``,
practice areas, emails, phone numbers, addresses, money with two decimals, MIME types...

The field name is the strongest hint, the model gives context (``name`` is a person on
a ``User``, a practice area on a ``PracticeArea``, a filename on a ``Document``). Anything
unrecognised falls back to a plain value of the schema's type.

Speed matters because the store seeds up to 100k records: choosing a generator is done
once per ``(model, field, schema)`` and cached; expensive Faker providers are sampled
once into small pools and then drawn from with a private :class:`random.Random`.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
import uuid
import zlib
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from faker import Faker

Gen = Callable[[], Any]

# A fixed "now": a seed must give the same data on every run and on every day, so
# fixtures and snapshot tests stay stable. Generated times fall around this instant.
ANCHOR = datetime(2025, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
_ANCHOR_TS = int(ANCHOR.timestamp())
_ANCHOR_ORD = ANCHOR.date().toordinal()
_DAY = 86_400

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

_CACHE_LIMIT = 50_000  # callers building schemas on the fly must not grow the cache forever

# --------------------------------------------------------------------------- locale tables

_LOCALE_ZONES: dict[str, tuple[str, ...]] = {
    "en_US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "en_CA": ("America/Toronto", "America/Vancouver", "America/Edmonton", "America/Halifax"),
    "fr_CA": ("America/Toronto",),
    "en_GB": ("Europe/London",),
    "en_IE": ("Europe/Dublin",),
    "en_AU": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
    "en_NZ": ("Pacific/Auckland",),
    "fr_FR": ("Europe/Paris",),
    "de_DE": ("Europe/Berlin",),
    "es_ES": ("Europe/Madrid",),
    "nl_NL": ("Europe/Amsterdam",),
}
_LOCALE_CURRENCY = {
    "en_US": "USD", "en_CA": "CAD", "fr_CA": "CAD", "en_GB": "GBP", "en_AU": "AUD",
    "en_IE": "EUR", "fr_FR": "EUR", "de_DE": "EUR", "es_ES": "EUR", "nl_NL": "EUR",
}
CURRENCIES = {"USD": "$", "CAD": "$", "EUR": "€", "GBP": "£", "AUD": "$"}

# --------------------------------------------------------------------------- vocabulary

PRACTICE_AREAS = (
    "Family Law", "Criminal Defense", "Personal Injury", "Estate Planning", "Real Estate",
    "Corporate", "Employment", "Immigration", "Bankruptcy", "Intellectual Property",
    "Civil Litigation", "Tax", "Wills and Probate", "Workers' Compensation",
    "Medical Malpractice", "Insurance Defense", "Landlord-Tenant", "Traffic Offenses",
    "Elder Law", "Business Formation",
)
MATTER_TOPICS = (
    "Divorce", "Child Custody", "DUI Defense", "Slip and Fall", "Motor Vehicle Accident",
    "Estate Plan", "Probate", "Residential Purchase", "Commercial Lease Review",
    "Contract Dispute", "Wrongful Termination", "Work Visa Application",
    "Chapter 7 Bankruptcy", "Trademark Registration", "Incorporation", "Debt Collection",
    "Medical Malpractice Claim", "Will and Power of Attorney", "Landlord-Tenant Dispute",
    "Shareholder Agreement",
)
ACTIVITY_DESCRIPTIONS = (
    "Legal Research", "Drafting", "Court Appearance", "Client Meeting", "Telephone Call",
    "Correspondence", "Document Review", "Travel Time", "Deposition", "Trial Preparation",
    "Mediation", "Filing Fee", "Photocopying", "Courier", "Initial Consultation",
)
DOC_TITLES = (
    "Retainer Agreement", "Engagement Letter", "Motion to Dismiss", "Settlement Agreement",
    "Affidavit", "Statement of Claim", "Complaint", "Answer", "Last Will and Testament",
    "Power of Attorney", "Lease Agreement", "Demand Letter", "Interrogatories",
    "Medical Records", "Deposition Transcript", "Purchase Agreement", "Court Order",
    "Financial Statement", "Witness Statement", "Closing Statement",
)
# pdf and docx dominate a law firm's documents, hence the repeats
FILE_TYPES = (
    ("pdf", "application/pdf"), ("pdf", "application/pdf"), ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("doc", "application/msword"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("jpg", "image/jpeg"), ("png", "image/png"), ("txt", "text/plain"),
    ("eml", "message/rfc822"), ("msg", "application/vnd.ms-outlook"),
)
TASK_NAMES = (
    "Draft engagement letter", "File motion with court", "Schedule client intake meeting",
    "Send retainer invoice", "Prepare discovery responses", "Review medical records",
    "Calendar statute of limitations", "Follow up with opposing counsel",
    "Request police report", "Prepare closing documents", "Run conflict check",
    "Collect signed documents", "Serve defendant", "Prepare witness list",
    "Order title search",
)
EVENT_TYPES = (
    "Court Appearance", "Client Meeting", "Deposition", "Filing Deadline", "Consultation",
    "Mediation", "Hearing", "Trial", "Internal Meeting", "Phone Call",
)
FOLDER_NAMES = (
    "Pleadings", "Correspondence", "Discovery", "Evidence", "Contracts", "Court Filings",
    "Billing", "Client Documents", "Medical Records", "Research", "Drafts", "Closing Documents",
)
DOC_CATEGORIES = (
    "Pleadings", "Correspondence", "Evidence", "Contracts", "Court Filings", "Financial",
    "Medical", "Invoices", "Templates", "Identification",
)
CUSTOM_FIELDS = (
    "Date of Incident", "Opposing Counsel", "Court File Number", "Referral Source",
    "Statute of Limitations", "Judge", "Policy Number", "Claim Number", "Marital Status",
    "Insurance Carrier", "Case Value", "Opposing Party",
)
FIELD_SETS = (
    "Personal Injury Details", "Litigation Details", "Intake Questions",
    "Insurance Information", "Estate Planning Details", "Real Estate Transaction",
)
EXPENSE_CATEGORIES = (
    "Filing Fees", "Courier", "Photocopying", "Mileage", "Expert Witness Fees",
    "Court Reporter", "Postage", "Travel", "Process Server", "Medical Records Fee",
)
GROUPS = (
    "Litigation Team", "Family Law Group", "Paralegals", "Partners", "Billing Department",
    "Intake Team", "Corporate Group", "Real Estate Team",
)
TASK_TYPES = ("Filing", "Research", "Follow-up", "Court Date", "Drafting", "Billing", "Intake", "Review")
CHECKLISTS = (
    "New Client Intake", "Litigation Kickoff", "Estate Planning Workflow",
    "Real Estate Closing Checklist", "Matter Closing Checklist", "Discovery Plan",
)
MATTER_STAGES = (
    "Intake", "Investigation", "Pleadings", "Discovery", "Negotiation", "Mediation",
    "Trial Preparation", "Trial", "Settlement", "Closing",
)
DOCKETS = (
    "Answer Due", "Motion Hearing", "Discovery Cut-off", "Pretrial Conference", "Trial Date",
    "Expert Disclosure Deadline", "Mediation Deadline",
)
JOB_TITLES = (
    "Partner", "Senior Partner", "Associate", "Senior Associate", "Of Counsel", "Paralegal",
    "Legal Assistant", "Law Clerk", "Office Manager", "Bookkeeper",
)
CONTACT_TITLES = (
    "CEO", "CFO", "President", "Director", "Manager", "Owner", "General Counsel",
    "Office Manager", "Vice President", "Controller", "HR Manager", "Claims Adjuster",
)
PREFIXES = ("Mr.", "Ms.", "Mrs.", "Dr.", "Mr.", "Ms.")
FUNDERS = (
    "Legal Services Corporation", "State Bar Foundation", "IOLTA Program", "United Way",
    "Access to Justice Fund", "Community Legal Aid Foundation",
)
GRANTS = (
    "Housing Stability Program", "Domestic Violence Legal Aid", "Veterans Legal Assistance",
    "Eviction Defense Project", "Senior Citizens Legal Services", "Immigrant Rights Initiative",
)
REPORTS = (
    "Monthly Billing Report", "Accounts Receivable Aging", "Client Ledger",
    "Trust Account Activity", "Productivity by User", "Matter Balance Summary",
    "Revenue by Practice Area", "Work in Progress",
)
BILL_THEMES = ("Default", "Classic", "Modern", "Detailed", "Simple", "Letterhead")
BANK_ACCOUNT_NAMES = (
    "Operating Account", "IOLTA Trust Account", "Trust Account", "Business Checking",
    "Client Trust Account", "Payroll Account",
)
BANKS = (
    "Chase", "Bank of America", "Wells Fargo", "Citibank", "PNC Bank", "TD Bank",
    "U.S. Bank", "RBC Royal Bank", "Scotiabank", "BMO", "HSBC", "Barclays",
)
CALENDAR_NAMES = (
    "Firm Calendar", "Court Dates", "Statute of Limitations", "Office Events", "Litigation Deadlines",
)
PAYMENT_PROFILES = ("Net 30", "Net 15", "Due on Receipt", "Net 60", "Standard Terms")
RELATIONSHIPS = (
    "Opposing Counsel", "Spouse", "Expert Witness", "Judge", "Insurance Adjuster",
    "Referral Source", "Co-Counsel", "Beneficiary", "Guardian", "Witness",
)
UTBMS_TASKS = (
    "Case Assessment, Development and Administration", "Pre-Trial Pleadings and Motions",
    "Discovery", "Trial Preparation and Trial", "Appeal", "Fact Investigation/Development",
    "Analysis/Strategy", "Settlement/Non-Binding ADR", "Document Production", "Expert Discovery",
)
UTBMS_SETS = (
    "Litigation Code Set", "Bankruptcy Code Set", "Counseling Code Set", "Project Code Set", "Expense Codes",
)
MEDICAL_SERVICES = (
    "Emergency Room Visit", "Physical Therapy", "MRI Scan", "Orthopedic Consultation",
    "Chiropractic Treatment", "Ambulance Transport", "Prescription Medication",
)
USER_ROLES = ("Administrator", "Billing", "Accounts", "Reporting", "Attorney", "Paralegal")
CONTACT_LABELS = ("Work", "Home", "Other")
HEADER_NAMES = ("Content-Type", "Content-MD5", "x-amz-server-side-encryption", "x-amz-acl")
TIME_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Toronto", "America/Vancouver", "Europe/London", "Australia/Sydney",
)
RECURRENCE_RULES = (
    "FREQ=DAILY;INTERVAL=1", "FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
    "FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=YEARLY;INTERVAL=1",
)
LOCATIONS = (
    "Courtroom 4B", "Conference Room A", "Main Office", "Zoom", "Client's Office", "County Courthouse",
)
PERMISSIONS = ("owner", "editor", "viewer")
STATUSES = ("pending", "active", "complete")
EVENT_ICONS = ("matter", "document", "task", "calendar", "bill", "contact", "note")
EVENT_SUBJECTS = ("Matter", "Document", "Task", "CalendarEntry", "Bill", "Contact")

ACTIVITY_NOTES = (
    "Telephone call with {person} regarding {topic}.",
    "Drafted {doc} and sent to client for review.",
    "Reviewed {doc} received from opposing counsel.",
    "Prepared for and attended hearing.",
    "Legal research re: {topic}.",
    "Email correspondence with client re: next steps.",
    "Revised {doc} per client comments.",
    "Meeting with {person} to discuss settlement options.",
    "Filed {doc} with the court.",
    "Travel to and from courthouse.",
)
LEGAL_SENTENCES = (
    "Client called to discuss the status of the {topic} matter.",
    "Opposing counsel has requested an extension to respond.",
    "Please review the attached {doc} and let us know if you have any questions.",
    "The hearing has been rescheduled to next month.",
    "We are awaiting the signed {doc} from the client.",
    "Settlement negotiations are ongoing.",
    "Documents were filed with the court and served on all parties.",
    "Follow up with {person} regarding outstanding records.",
    "The client has approved the proposed strategy.",
    "Discovery responses are due in two weeks.",
    "Meeting scheduled with {person} to review the {doc}.",
    "Retainer received and deposited to trust.",
)
SUBJECTS = (
    "Re: {topic}", "Settlement offer - {last}", "Documents for your review",
    "Follow-up from our meeting", "Hearing date confirmed", "Signed {doc}",
    "Call with {person}", "Intake notes - {last}", "Strategy notes",
)
CALENDAR_SUMMARIES = (
    "{event} - {last}", "Deposition of {person}", "Hearing: {last} v. {last2}",
    "Call with {person}", "Consultation with {person}",
)
BILL_MEMOS = (
    "Thank you for your business.", "Payment is due within 30 days.",
    "For professional services rendered.", "Please remit payment to our trust account.",
)

# Ordered (substring, kind) rules on the lower-cased model name; the first match wins, so
# specific names (PracticeArea, MatterStage, LineItem) come before generic ones (Matter, Item).
_KIND_RULES = (
    ("practicearea", "practice_area"), ("activitydescription", "activity_description"),
    ("utbmscode", "utbms"), ("utbmsset", "utbms_set"), ("eventtype", "event_type"),
    ("calendarentry", "calendar_entry"), ("calendar", "calendar"),
    ("bankaccount", "bank_account"), ("accountbalance", "bank_account"),
    ("documentcategory", "doc_category"), ("customfieldset", "field_set"),
    ("customfield", "custom_field"), ("expensecategory", "expense_category"),
    ("tasktype", "task_type"), ("tasktemplatelist", "checklist"), ("task", "task"),
    ("matterstage", "matter_stage"), ("matterdocket", "docket"), ("jobtitle", "job_title"),
    ("fundingsource", "funder"), ("grant", "grant"), ("report", "report"),
    ("billtheme", "bill_theme"), ("emailaddress", "email_address"), ("phonenumber", "phone"),
    ("website", "web_site"), ("instantmessenger", "messenger"), ("address", "address"),
    ("lineitem", "activity"), ("timer", "activity"), ("folder", "folder"),
    ("document", "document"), ("item", "document"), ("group", "group"),
    ("paymentprofile", "payment_profile"), ("medicalbill", "medical_bill"),
    ("multipartheader", "header"), ("contact", "contact"), ("client", "contact"),
    ("recipient", "contact"), ("provider", "contact"), ("payer", "contact"),
    ("company", "company"), ("user", "person"), ("attorney", "person"),
    ("creator", "person"), ("author", "person"), ("owner", "person"), ("assign", "person"),
    ("attendee", "person"), ("participant", "person"), ("member", "person"),
    ("subscriber", "person"), ("modifiedby", "person"), ("matter", "matter"),
    ("communication", "communication"), ("conversation", "communication"),
    ("note", "note"), ("bill", "bill"), ("activity", "activity"), ("account", "firm"),
    ("interest", "finance"), ("discount", "finance"), ("avatar", "avatar"),
    ("banktransaction", "bank_transaction"), ("conference", "conference"),
    ("externalproperty", "property"), ("currency", "currency"),
)
# Models whose value shapes are embedded in others; a field named "primary_email_address"
# holding an object is an EmailAddress (longest suffix first so EmailAddress beats Address).
_EMBEDDED = ("InstantMessenger", "EmailAddress", "PhoneNumber", "WebSite", "Address", "Avatar", "Currency")

# String fields (mostly Legal Aid UK) that hold an amount as text, e.g. Grant.balance "9737.12"
_MONEY_STRING_ENDINGS = (
    "_cost", "_costs", "_limit", "balance", "_fee", "_disbursements", "_amount", "_total",
)


# --------------------------------------------------------------------------- helpers


def model_kind(model: str) -> str:
    """A coarse category for a model name (``"MatterContacts"`` -> ``"contact"``)."""
    key = model.lower().replace("_base", "").replace("_", "")
    for needle, kind in _KIND_RULES:
        if needle in key:
            return kind
    return "other"


def singular(word: str) -> str:
    """Naive English singular, enough for Clio's association names (addresses, entries)."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def nested_model(field: str, parent: str) -> str:
    """The model an object-valued ``field`` holds, guessed from its name (``client`` -> ``Client``)."""
    if not field:
        return parent
    camel = "".join(part.capitalize() for part in singular(field).split("_") if part)
    for name in _EMBEDDED:
        if camel.endswith(name):
            return name
    return camel or parent


def _slug(text: str) -> str:
    """ASCII lower-case letters only: names from any locale become usable email local parts."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


def _province(fake: Faker) -> str:
    for provider in ("state_abbr", "province_abbr", "administrative_unit", "city"):
        if hasattr(fake, provider):
            return getattr(fake, provider)()
    return "CA"


def _phone(fake: Faker) -> str:
    # Faker sometimes appends extensions ("x4618") or an international "001-" prefix;
    # numbers typed into Clio rarely have either
    number = re.split(r"\s*x", fake.phone_number())[0]
    return number[4:] if number.startswith("001-") else number


def _country(fake: Faker) -> str:
    try:
        return fake.current_country()
    except (AttributeError, ValueError, KeyError):
        return "United States"


def _country_code(fake: Faker) -> str:
    try:
        return fake.current_country_code()
    except (AttributeError, ValueError, KeyError):
        return "US"


# size, maker: expensive Faker providers are sampled once per instance into these pools
_POOLS: dict[str, tuple[int, Callable[[Faker], str]]] = {
    "first": (300, lambda f: f.first_name()),
    "last": (300, lambda f: f.last_name()),
    "company": (200, lambda f: f.company()),
    "street": (200, lambda f: f.street_address().replace("\n", ", ")),  # en_GB has "Flat 1\n..."
    "city": (150, lambda f: f.city()),
    "postcode": (150, lambda f: f.postcode()),
    "province": (60, _province),
    "phone": (200, _phone),
    "word": (300, lambda f: f.word()),
    "domain": (100, lambda f: f.domain_name()),
    "free_domain": (12, lambda f: f.free_email_domain()),
    "country": (1, _country),
    "country_code": (1, _country_code),
}


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # no tz database (e.g. bare Windows)
        return timezone(timedelta(hours=-5))


# --------------------------------------------------------------------------- the faker


class ValueFaker:
    """Realistic values for Clio fields, deterministic for a given seed."""

    def __init__(self, seed: int, locale: str = "en_US") -> None:
        """Values depend only on ``seed``, ``locale`` and the sequence of calls."""
        self._seed = seed
        self._locale = locale
        self._faker = Faker(locale)  # private instance: never touch Faker's shared random
        self._rng = random.Random(seed)
        self._cache: dict[tuple[str, str, int], tuple[dict[str, Any], Gen]] = {}
        self._pools: dict[str, list[str]] = {}
        zones = _LOCALE_ZONES.get(locale, ("America/New_York",))
        self._tz_name = random.Random(f"{seed}/tz").choice(zones)
        self._tz = _zone(self._tz_name)
        self._currency = _LOCALE_CURRENCY.get(locale, "USD")

    # ----------------------------------------------------------------- public API

    def value(self, model: str, field: str, schema: dict) -> Any:
        """A value for `field` of `model` (e.g. model "Matter", field "description") fitting `schema`.

        `schema` is a fully resolved JSON-schema dict (no $ref left). Objects with
        properties become dicts generated property by property (field-aware, recursively);
        arrays become lists of 0-3 items.
        """
        key = (model, field, id(schema))
        hit = self._cache.get(key)
        if hit is None or hit[0] is not schema:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            # keeping `schema` in the entry pins it, so its id() cannot be reused meanwhile
            hit = (schema, self._build(model, field, schema))
            self._cache[key] = hit
        return hit[1]()

    def timestamp(self, days_back: int = 730) -> str:
        """An ISO-8601 timestamp with a UTC offset within `days_back` days before the anchor."""
        return self._timestamp_between(-days_back, 0)

    def date(self, days_back: int = 730) -> str:
        """A YYYY-MM-DD date within `days_back` days before the anchor."""
        return date.fromordinal(_ANCHOR_ORD - self._rng.randint(0, days_back)).isoformat()

    def staff_email(self, first: str | None, last: str | None) -> str:
        """A firm email for a user, from the user's own names (``jsmith@smithjoneslaw.com``)."""
        local = f"{_slug(first or '')[:1]}{_slug(last or '')}" or "staff"
        return f"{local}@{self._firm[1]}"

    def company_name(self) -> str:
        """A company's name, from the same pool contacts' company names come from."""
        return self._rng.choice(self._pool("company"))

    def etag(self) -> str:
        """An ETag as Clio sends it: 32 hex digits wrapped in literal double quotes."""
        return f'"{self._rng.getrandbits(128):032x}"'

    # ----------------------------------------------------------------- plumbing

    def _timestamp_between(self, lo_days: int, hi_days: int) -> str:
        ts = _ANCHOR_TS + self._rng.randint(lo_days * _DAY, hi_days * _DAY)
        return datetime.fromtimestamp(ts, self._tz).isoformat(timespec="seconds")

    def _pool(self, key: str) -> list[str]:
        """A pool of Faker values, seeded per pool so it is the same whatever the call order."""
        pool = self._pools.get(key)
        if pool is None:
            size, make = _POOLS[key]
            self._faker.seed_instance(zlib.crc32(f"{self._seed}/{self._locale}/{key}".encode()))
            pool = [make(self._faker) for _ in range(size)]
            self._pools[key] = pool
        return pool

    @cached_property
    def _firm(self) -> tuple[str, str]:
        """The firm's (name, email domain), stable per seed: users all share one domain."""
        rng = random.Random(f"{self._seed}/firm")
        a, b = rng.sample(self._pool("last"), 2)
        name = rng.choice((f"{a} & {b} LLP", f"{a} {b} LLP", f"{a} Law Group", f"{a} & Associates"))
        return name, f"{_slug(a)}{_slug(b)}law.com"

    def _build(self, model: str, field: str, schema: dict[str, Any], depth: int = 0) -> Gen:
        """Choose (once) the generator for a schema node."""
        schema = _merge_all_of(schema)
        enum = schema.get("enum")
        if enum:
            return lambda: self._rng.choice(enum)
        kind = _schema_type(schema)
        if kind == "array":
            return self._array_gen(model, field, schema, depth)
        if kind == "object":
            return self._object_gen(model, field, schema, depth)
        if kind == "boolean":
            return self._boolean_gen(field)
        if kind == "integer":
            return _bounded(self._integer_gen(field, schema), schema, self._rng, True)
        if kind == "number":
            return _bounded(self._number_gen(model_kind(model), field), schema, self._rng, False)
        return _sized(self._string_gen(model, field, schema), schema)

    def _array_gen(self, model: str, field: str, schema: dict[str, Any], depth: int) -> Gen:
        items = schema.get("items") or {"type": "string"}
        lo = int(schema.get("minItems", 0))
        hi = max(lo, min(int(schema.get("maxItems", 3)), 3))
        rng = self._rng
        enum = _merge_all_of(items).get("enum")
        if enum:  # distinct picks: ["paid", "paid"] would look wrong for state lists
            return lambda: rng.sample(enum, min(rng.randint(lo, hi), len(enum)))
        if depth > 8:  # cycle guard for hand-made self-referencing schemas
            return lambda: []
        item = self._build(model, singular(field), items, depth + 1)
        return lambda: [item() for _ in range(rng.randint(lo, hi))]

    def _object_gen(self, model: str, field: str, schema: dict[str, Any], depth: int) -> Gen:
        props = schema.get("properties")
        if not props or depth > 8:
            return self._free_object_gen(field)
        sub = nested_model(field, model)
        gens = [(name, self._build(sub, name, prop, depth + 1)) for name, prop in props.items()]
        if sub == "Currency" and "code" in props and "sign" in props:
            return lambda: _matching_sign({name: gen() for name, gen in gens})
        return lambda: {name: gen() for name, gen in gens}

    def _free_object_gen(self, field: str) -> Gen:
        """An object with no declared properties: Clio's ``currency`` is one (``{"type": "object"}``)."""
        if "currenc" not in field:
            return dict
        code = self._currency_gen()
        return lambda: _currency_obj(code())

    def _boolean_gen(self, field: str) -> Gen:
        rnd = self._rng.random
        if field == "_destroy":  # a request-only flag; stored records are never being destroyed
            return lambda: False
        if field in ("enabled", "billable", "active", "default"):
            return lambda: rnd() < 0.85
        return lambda: rnd() < 0.5

    # ----------------------------------------------------------------- numbers

    def _integer_gen(self, field: str, schema: dict[str, Any]) -> Gen:
        rng = self._rng
        if field == "id" or field.endswith(("_id", "_ids")):
            return lambda: rng.randint(1, 1000)
        choices = _INT_CHOICES.get(field)
        if choices:
            return lambda: rng.choice(choices)
        lo, hi = _int_range(field)
        fmt_lo, fmt_hi = INT32 if schema.get("format") == "int32" else INT64
        lo, hi = max(lo, fmt_lo), min(hi, fmt_hi)
        return lambda: rng.randint(lo, hi)

    def _number_gen(self, kind: str, field: str) -> Gen:
        rng = self._rng
        if field == "id" or field.endswith("_id"):  # BankAccount.currency_id is a double
            return lambda: float(rng.randint(1, 1000))
        if field in ("quantity", "rounded_quantity", "elapsed_time"):
            # Clio's quantities are seconds, billed in 6-minute increments
            return lambda: float(rng.randrange(360, 28_801, 360))
        if field.endswith(("hours", "_in_hours")):
            return lambda: rng.randint(1, 80) / 10
        if field == "exchange_rate":
            return lambda: round(rng.uniform(0.6, 1.6), 4)
        if field == "rounded_duration":
            return lambda: rng.choice((0.1, 0.25, 0.5))
        if _is_percent(field):
            return lambda: round(rng.uniform(0, 100), 2)
        if field in ("tax_rate", "secondary_tax_rate"):
            return lambda: rng.choice((0.0, 5.0, 7.5, 8.25, 10.0, 13.0))
        if field.endswith("_rate") or (field == "rate" and kind == "finance"):
            # interest and discount rates are percentages, not hourly rates
            return lambda: round(rng.uniform(1, 12), 2)
        if "rate" in field or (field == "price" and kind == "activity"):
            # hourly rates are round numbers, in steps of $25
            return lambda: float(rng.randrange(150, 676, 25))
        return self._money_gen(field)

    def _money_gen(self, field: str) -> Gen:
        """Non-negative amounts with two decimals; squaring skews towards smaller bills."""
        rnd = self._rng.random
        big = any(w in field for w in ("total", "balance", "budget", "trust", "funds", "limit"))
        top = 25_000.0 if big else 5_000.0
        return lambda: round(top * rnd() ** 2 + 5, 2)

    # ----------------------------------------------------------------- strings

    def _string_gen(self, model: str, field: str, schema: dict[str, Any]) -> Gen:
        fmt = schema.get("format")
        if fmt in ("date", "date-time"):
            return self._when_gen(field, fmt == "date")
        if fmt in _FORMAT_FIELDS:
            field = _FORMAT_FIELDS[fmt]
        kind = model_kind(model)
        rules = (self._id_rule, self._when_rule, self._name_rule, self._contact_rule, self._place_rule,
                 self._web_rule, self._text_rule, self._code_rule, self._misc_rule)
        for rule in rules:  # first rule with an opinion wins; order goes specific -> generic
            gen = rule(kind, field)
            if gen is not None:
                return gen
        words = self._pool("word")
        rng = self._rng
        return lambda: " ".join(rng.sample(words, rng.randint(1, 3)))

    def _when_gen(self, field: str, as_date: bool) -> Gen:
        lo, hi = _time_window(field)
        if as_date:
            randint = self._rng.randint
            return lambda: date.fromordinal(_ANCHOR_ORD + randint(lo, hi)).isoformat()
        return lambda: self._timestamp_between(lo, hi)

    def _id_rule(self, kind: str, field: str) -> Gen | None:
        """Ids the spec types as strings: a few are composite in Clio, the rest are digits."""
        if field != "id" and not field.endswith("_id"):
            return None
        rng = self._rng
        if field == "split_connection_id":  # documented as a UUID
            bits = rng.getrandbits
            return lambda: str(uuid.UUID(int=bits(128), version=4))
        if kind == "custom_field":  # Clio's custom field value ids read "text_line-1234"
            kinds = ("text_line", "text_area", "numeric", "date", "picklist", "checkbox")
            return lambda: f"{rng.choice(kinds)}-{rng.randint(1, 100_000)}"
        return lambda: str(rng.randint(1, 1000))

    def _when_rule(self, kind: str, field: str) -> Gen | None:
        """Date-ish strings that the spec left without a format (``ConversationMessage.date``)."""
        if field.endswith("_date"):
            return self._when_gen(field, True)
        if field in ("date", "start_time", "end_time") or field.endswith("_at"):
            return self._when_gen(field, False)
        return None

    def _name_rule(self, kind: str, field: str) -> Gen | None:
        if field in ("first_name", "middle_name", "last_name"):
            return self._pick(self._pool("last" if field == "last_name" else "first"))
        if field in ("primary_authorizer", "secondary_authorizer"):
            return self._person_gen()
        if field == "holder":
            return lambda: self._firm[0]
        if field == "initials":
            return self._initials_gen()
        if field == "prefix":
            return self._pick(PREFIXES)
        if field == "title":  # a contact's job title; elsewhere (Event) what the event is about
            if kind in ("contact", "company", "person"):
                return self._pick(CONTACT_TITLES)
            return self._matter_description_gen()
        if field == "job_title_name":
            return self._pick(JOB_TITLES)
        if field == "relationship_name":
            return self._pick(RELATIONSHIPS)
        if field == "name":
            return self._model_name_gen(kind)
        return None

    def _model_name_gen(self, kind: str) -> Gen:
        """``name`` means something different on every model."""
        fixed = _NAMES_BY_KIND.get(kind)
        if fixed:
            return self._pick(fixed)
        if kind == "person":
            return self._person_gen()
        if kind in ("contact", "company", "calendar"):
            # most contacts are people; calendars are mostly named after their user
            person = self._person_gen()
            other = self._pick(CALENDAR_NAMES) if kind == "calendar" else self._company_gen()
            share = {"contact": 0.7, "company": 0.0, "calendar": 0.6}[kind]
            rnd = self._rng.random
            return lambda: person() if rnd() < share else other()
        if kind == "matter":
            return self._matter_description_gen()
        if kind == "document":
            return self._filename_gen()
        if kind == "firm":
            return lambda: self._firm[0]
        if kind == "medical_bill":
            return self._template_gen(("{service} - {company}",))
        return self._label_gen()

    def _contact_rule(self, kind: str, field: str) -> Gen | None:
        """Emails and phone numbers, wherever the field name says so."""
        if field == "maildrop_address":
            bits = self._rng.getrandbits
            return lambda: f"matter-{bits(32):08x}@maildrop.clio.com"
        if "email" in field or (field == "address" and kind == "email_address"):
            return self._email_gen(staff=kind == "person" and field == "email")
        if field == "address" and kind == "messenger":
            return self._handle_gen()
        if "phone_number" in field or (field == "number" and kind == "phone"):
            return self._pick(self._pool("phone"))
        return None

    def _place_rule(self, kind: str, field: str) -> Gen | None:
        if field == "street" or (field == "address" and kind not in ("web_site",)):
            return self._pick(self._pool("street"))
        if field in ("city", "domicile_branch"):
            return self._pick(self._pool("city"))
        if field in ("province", "region", "state") and kind != "firm":
            return self._pick(self._pool("province"))
        if field == "postal_code":
            return self._pick(self._pool("postcode"))
        if field == "country":
            country = self._pool("country")[0]
            return lambda: country
        if field == "location":
            return self._location_gen(kind)
        if field in ("time_zone", "display_timezone", "start_at_time_zone"):
            # a firm's people mostly share its time zone
            home, rnd, choice = self._tz_name, self._rng.random, self._rng.choice
            return lambda: home if rnd() < 0.8 else choice(TIME_ZONES)
        if field == "locale":
            return lambda: self._locale
        return None

    def _web_rule(self, kind: str, field: str) -> Gen | None:
        if field in ("url", "web_site", "website") or field.endswith(("_url", "_link", "_qr_code")) or (
            field == "address" and kind == "web_site"
        ):
            return self._url_gen(kind, field)
        if field == "uuid" or field.endswith("_uuid"):
            bits = self._rng.getrandbits
            return lambda: str(uuid.UUID(int=bits(128), version=4))
        if field == "content_type":
            return self._pick(tuple(mime for _, mime in FILE_TYPES))
        if field in ("filename", "file_name"):
            return self._filename_gen()
        if field == "etag":
            return self.etag
        if field == "color" or field.endswith("_color"):
            bits = self._rng.getrandbits
            return lambda: f"#{bits(24):06X}"
        return None

    def _text_rule(self, kind: str, field: str) -> Gen | None:
        """Free text: what reads right depends mostly on the model."""
        if field not in _TEXT_FIELDS:
            return None
        if kind == "matter" and field == "description":
            return self._matter_description_gen()
        if kind == "activity" and field in ("note", "description"):
            return self._template_gen(ACTIVITY_NOTES)
        if field == "summary":
            return self._template_gen(CALENDAR_SUMMARIES)
        if field == "subject" or field == "primary_detail":
            return self._template_gen(SUBJECTS)
        if field == "memo" or kind == "bill":
            return self._pick(BILL_MEMOS)
        if kind == "utbms" and field == "description":
            return self._pick(UTBMS_TASKS)
        if kind == "task" and field == "description":
            return self._template_gen(tuple(f"{t}. {{legal}}" for t in TASK_NAMES))
        if field in ("body", "detail"):
            return self._template_gen(("{legal} {legal2}", "{legal}"))
        return self._template_gen(LEGAL_SENTENCES)

    def _code_rule(self, kind: str, field: str) -> Gen | None:
        """Identifiers people read: matter and bill numbers, currency codes, references."""
        rng = self._rng
        if field in ("display_number", "matter_number") or field.endswith("display_number"):
            if "invoice" in field:
                return lambda: str(rng.randint(1000, 9999))
            last = self._pool("last")
            return lambda: f"{rng.randint(1, 1999):05d}-{rng.choice(last)}"
        if field == "number":  # a bill's number (a phone's was taken by _contact_rule)
            return lambda: str(rng.randint(1000, 9999))
        if field == "custom_number":
            kinds = ("CV", "FL", "CR", "PR", "RE")
            return lambda: f"{rng.randint(2019, 2025)}-{rng.choice(kinds)}-{rng.randint(1, 9999):04d}"
        if field in ("currency", "currency_code"):
            return self._currency_gen()
        if field == "code":
            return self._model_code_gen(kind)
        if field in ("sign", "currency_symbol", "currency_sign"):
            code = self._currency_gen()
            return lambda: CURRENCIES[code()]
        if field.endswith(("_number", "_reference")) or field in _REFERENCE_FIELDS:
            prefix = _REFERENCE_FIELDS.get(field, "")
            return lambda: f"{prefix}{rng.randint(10_000, 99_999_999)}"
        if field == "swift":  # bank (4) + country (2) + location (2)
            country = self._pool("country_code")[0]
            branches = ("33", "2X", "3N")
            letters = string.ascii_uppercase
            return lambda: "".join(rng.choices(letters, k=4)) + country + rng.choice(branches)
        if field.endswith("_code"):
            return lambda: "".join(rng.choices(string.ascii_uppercase, k=4)) + str(rng.randint(10, 99))
        return None

    def _misc_rule(self, kind: str, field: str) -> Gen | None:
        """Single-purpose fields with a small vocabulary of their own."""
        rng = self._rng
        table = _MISC_CHOICES.get(field)
        if table:
            return self._pick(table)
        if field in ("shared_secret", "conference_password"):
            size = 40 if field == "shared_secret" else 6
            return lambda: "".join(rng.choices("0123456789abcdef", k=size))
        if field == "type":
            return self._pick(_TYPES_BY_KIND.get(kind, ("Standard", "Custom")))
        if field == "state" and kind == "firm":
            return lambda: "active"
        if field in ("fields",):
            return lambda: "id,etag,display_number,status"
        if field in ("config", "options"):
            return self._pick(('{"show_logo":true}', '{"group_by":"matter"}', "{}"))
        if field == "field_name" and kind == "custom_field":
            return self._pick(CUSTOM_FIELDS)
        if field in ("key", "json_key", "field_name"):
            words = self._pool("word")
            return lambda: f"{rng.choice(words)}_{rng.choice(words)}".lower()
        if field == "identifier":  # what a participant / polymorphic item is shown as
            return self._person_gen() if kind == "person" else self._matter_description_gen()
        if field in ("label", "field_label", "option", "group") or field.endswith("_title"):
            return self._label_gen()
        if field.startswith("number_of") or field.endswith("_represented"):
            return lambda: str(rng.randint(1, 6))
        if field.endswith(_MONEY_STRING_ENDINGS) or field.startswith("cost_"):
            money = self._money_gen(field)
            return lambda: f"{money():.2f}"
        return None

    # ----------------------------------------------------------------- building blocks

    def _pick(self, options: tuple[str, ...] | list[str]) -> Gen:
        choice, seq = self._rng.choice, options
        return lambda: choice(seq)

    def _person_gen(self) -> Gen:
        choice, first, last = self._rng.choice, self._pool("first"), self._pool("last")
        return lambda: f"{choice(first)} {choice(last)}"

    def _company_gen(self) -> Gen:
        return self._pick(self._pool("company"))

    def _initials_gen(self) -> Gen:
        rng = self._rng
        return lambda: "".join(rng.choices(string.ascii_uppercase, k=rng.choice((2, 2, 3))))

    def _label_gen(self) -> Gen:
        """Two title-cased words: a believable label for anything without a better idea."""
        choice, words = self._rng.choice, self._pool("word")
        return lambda: f"{choice(words)} {choice(words)}".title()

    def _currency_gen(self) -> Gen:
        rnd, home = self._rng.random, self._currency
        others = tuple(CURRENCIES)
        choice = self._rng.choice
        # a firm bills mostly in its home currency
        return lambda: home if rnd() < 0.85 else choice(others)

    def _email_gen(self, staff: bool) -> Gen:
        rng = self._rng
        first = [_slug(n) or "info" for n in self._pool("first")]
        last = [_slug(n) or "mail" for n in self._pool("last")]
        if staff:
            domain = self._firm[1]
            return lambda: f"{rng.choice(first)[0]}{rng.choice(last)}@{domain}"
        domains = self._pool("free_domain") + self._pool("domain")
        shapes = ("{f}.{l}@{d}", "{f0}{l}@{d}", "{f}{n}@{d}", "{f}_{l}@{d}")

        def make() -> str:
            f, l = rng.choice(first), rng.choice(last)
            shape = rng.choice(shapes)
            return shape.format(f=f, l=l, f0=f[0], n=rng.randint(1, 99), d=rng.choice(domains))

        return make

    def _handle_gen(self) -> Gen:
        rng, first, last = self._rng, self._pool("first"), self._pool("last")
        return lambda: f"{_slug(rng.choice(first))}.{_slug(rng.choice(last))}{rng.randint(1, 99)}"

    def _url_gen(self, kind: str, field: str) -> Gen:
        rng, domains = self._rng, self._pool("domain")
        bits = rng.getrandbits
        if field == "put_url":  # presigned S3 upload URL, as Clio hands out for documents
            return lambda: (f"https://clio-documents.s3.amazonaws.com/{uuid.UUID(int=bits(128), version=4)}"
                            f"?X-Amz-Expires=3600&X-Amz-Signature={bits(256):064x}")
        if field == "join_url":
            return lambda: f"https://zoom.us/j/{rng.randint(10**9, 10**11 - 1)}"
        if kind == "web_site" or field in ("web_site", "website"):
            return lambda: f"https://www.{rng.choice(domains)}"
        if kind == "avatar" or "avatar" in field:
            return lambda: f"https://secure.gravatar.com/avatar/{bits(128):032x}"
        if field in ("url", "redirect_url", "target_url"):  # the integrator's own endpoints
            paths = ("clio", "hooks", "integrations")
            return lambda: f"https://{rng.choice(domains)}/{rng.choice(paths)}/{bits(32):08x}"
        # links into Clio itself (events, payment pages, QR codes)
        sections = ("matters", "contacts", "documents", "bills")
        return lambda: f"https://app.clio.com/nc/#/{rng.choice(sections)}/{rng.randint(1, 99_999)}"

    def _filename_gen(self) -> Gen:
        rng, last = self._rng, self._pool("last")

        def make() -> str:
            title = rng.choice(DOC_TITLES)
            ext = rng.choice(FILE_TYPES)[0]
            style = rng.random()
            if style < 0.5:
                return f"{title} - {rng.choice(last)}.{ext}"
            if style < 0.8:
                return f"{title.lower().replace(' ', '_')}_v{rng.randint(1, 5)}.{ext}"
            return f"{title} {rng.randint(2019, 2025)}.{ext}"

        return make

    def _matter_description_gen(self) -> Gen:
        rng, first, last = self._rng, self._pool("first"), self._pool("last")

        def make() -> str:
            style = rng.random()
            if style < 0.55:
                return f"{rng.choice(last)} - {rng.choice(MATTER_TOPICS)}"
            if style < 0.8:
                return f"{rng.choice(last)} v. {rng.choice(last)}"
            if style < 0.9:
                return f"Estate of {rng.choice(first)} {rng.choice(last)}"
            return f"{rng.choice(MATTER_TOPICS)} for {rng.choice(first)} {rng.choice(last)}"

        return make

    def _location_gen(self, kind: str) -> Gen:
        rng, cities, provinces = self._rng, self._pool("city"), self._pool("province")
        if kind == "calendar_entry":
            streets = self._pool("street")
            return lambda: rng.choice(LOCATIONS) if rng.random() < 0.6 else rng.choice(streets)
        return lambda: f"{rng.choice(cities)}, {rng.choice(provinces)}"

    def _model_code_gen(self, kind: str) -> Gen:
        rng = self._rng
        if kind == "utbms":
            return lambda: f"{rng.choice('LAEP')}{rng.randint(1, 5)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        if kind == "currency":
            return self._currency_gen()
        # practice areas and anything else: a short upper-case code such as "FAM"
        return lambda: "".join(rng.choices(string.ascii_uppercase, k=3))

    def _template_gen(self, templates: tuple[str, ...]) -> Gen:
        """Fill legal-sounding templates with pooled names; only the slots used are drawn."""
        choice, slots = self._rng.choice, self._slots
        return lambda: choice(templates).format_map(_Lazy(slots))

    @cached_property
    def _slots(self) -> dict[str, Callable[[], str]]:
        """Template slot generators; pools are looked up lazily so unused ones are never built."""
        choice, pool = self._rng.choice, self._pool
        slots: dict[str, Callable[[], str]] = {
            "person": lambda: f"{choice(pool('first'))} {choice(pool('last'))}",
            "last": lambda: choice(pool("last")),
            "last2": lambda: choice(pool("last")),
            "topic": lambda: choice(MATTER_TOPICS).lower(),
            "doc": lambda: choice(DOC_TITLES).lower(),
            "event": lambda: choice(EVENT_TYPES),
            "service": lambda: choice(MEDICAL_SERVICES),
            "company": lambda: choice(pool("company")),
            "legal": lambda: choice(LEGAL_SENTENCES).format_map(_Lazy(slots)),
            "legal2": lambda: choice(LEGAL_SENTENCES).format_map(_Lazy(slots)),
        }
        return slots


class _Lazy(dict):  # type: ignore[type-arg]
    """format_map mapping that calls a slot's generator only when the template uses it."""

    def __init__(self, slots: dict[str, Callable[[], str]]) -> None:
        super().__init__()
        self._slots = slots

    def __missing__(self, key: str) -> str:
        return self._slots[key]()


# --------------------------------------------------------------------------- rule tables

_NAMES_BY_KIND: dict[str, tuple[str, ...]] = {
    "practice_area": PRACTICE_AREAS, "activity_description": ACTIVITY_DESCRIPTIONS,
    "utbms": UTBMS_TASKS, "utbms_set": UTBMS_SETS, "event_type": EVENT_TYPES,
    "bank_account": BANK_ACCOUNT_NAMES, "doc_category": DOC_CATEGORIES,
    "field_set": FIELD_SETS, "custom_field": CUSTOM_FIELDS,
    "expense_category": EXPENSE_CATEGORIES, "task_type": TASK_TYPES, "checklist": CHECKLISTS,
    "task": TASK_NAMES, "matter_stage": MATTER_STAGES, "docket": DOCKETS,
    "job_title": JOB_TITLES, "funder": FUNDERS, "grant": GRANTS, "report": REPORTS,
    "bill_theme": BILL_THEMES, "email_address": CONTACT_LABELS,
    "phone": ("Work", "Home", "Mobile"), "web_site": ("Work", "Personal"),
    "messenger": ("Skype", "Teams", "Slack"), "address": ("Work", "Home", "Billing"),
    "folder": FOLDER_NAMES, "group": GROUPS, "payment_profile": PAYMENT_PROFILES,
    "header": HEADER_NAMES, "property": ("external_id", "source_system", "sync_token", "crm_reference"),
}
_TYPES_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank_account": ("Operating", "Trust"),
    "bank_transaction": ("Deposit", "Withdrawal"),
    "conference": ("Zoom", "Microsoft Teams", "Google Meet"),
    "activity_description": ("User", "FlatRate", "Custom"),
}
_TEXT_FIELDS = frozenset({
    "description", "note", "subject", "body", "memo", "message", "detail", "summary",
    "snippet", "primary_detail", "secondary_detail", "comment", "reason",
})
_MISC_CHOICES: dict[str, tuple[str, ...]] = {
    "role": USER_ROLES,
    "institution": BANKS,
    "recurrence_rule": RECURRENCE_RULES,
    "permission": PERMISSIONS,
    "status": STATUSES,
    "icon": EVENT_ICONS,
    "mobile_icon": EVENT_ICONS,
    "subject_type": EVENT_SUBJECTS,
    "source": ("Check", "Wire transfer", "Cash deposit", "Clio Payments", "EFT"),
    "transaction_type": ("Deposit", "Withdrawal", "Transfer"),
    "payment_type": ("Payment", "CreditMemo"),
    "tax_name": ("Sales Tax", "GST", "HST", "VAT"),
    "secondary_tax_name": ("PST", "QST", "City Tax"),
    "tax_setting": ("no_tax", "tax_1_only", "tax_2_only", "tax_1_and_tax_2"),
    "damage_type": ("special", "general", "other"),
    "discount_services_only": ("true", "false"),
    "category_type": ("Time", "Expense"),
    "entry_type": ("hard_cost", "soft_cost"),
    "resource_type": ("User", "Group"),
    "utbms_task_name": UTBMS_TASKS,
    "category_of_law": PRACTICE_AREAS,
    "phrase": ("#sig", "#addr", "#ty", "#fu", "#retainer"),
    "court": ("County Court", "Superior Court", "District Court", "Magistrates' Court", "Family Court"),
    "police_station": ("Central Police Station", "North Division", "Westside Precinct"),
}
_INT_CHOICES: dict[str, tuple[int, ...]] = {
    "terms": (0, 15, 30, 45, 60),
    "period": (30, 60, 90),
    "interest_period": (30, 60, 90),
    "discount_period": (10, 15, 30),
    "early_payment_period": (10, 15, 30),
    "duration": (5, 10, 15, 30, 60, 1440),  # reminder minutes before the event
    "time_estimated": tuple(range(900, 28_801, 900)),  # seconds, in quarter hours
    "rounding": (1, 6, 10, 15),
    "rate": tuple(range(25, 501, 25)),
}
# (test, lo, hi): the first matching name test gives the integer's range
_INT_RANGES: tuple[tuple[Callable[[str], bool], int, int], ...] = (
    (lambda f: f in ("day_of_week", "days_of_week"), 0, 6),
    (lambda f: f == "day_of_month", 1, 28),
    (lambda f: f == "every_no_of_months", 1, 12),
    (lambda f: f in ("version_number", "part_number"), 1, 6),
    (lambda f: f in ("progress", "notification_threshold"), 0, 100),
    (lambda f: f == "early_payment_rate", 1, 10),
    (lambda f: f == "size", 2_048, 8_000_000),  # bytes
    (lambda f: f == "number", 1, 1_999),  # a matter's number within its account
    (lambda f: f.endswith(("_count", "count")) or f.startswith("unread"), 0, 40),
    (lambda f: f.endswith(("order", "ordering")), 0, 20),
    (lambda f: f.endswith("_time"), 0, 480),  # minutes (travel, waiting, advice)
    (lambda f: "sub_total" in f, 0, 20_000),
)
# reference-like fields and the prefix their values carry
_REFERENCE_FIELDS = {
    "client_reference": "CR-", "purchase_order": "PO-", "reference": "REF-",
    "confirmation": "", "ucn": "", "ufn": "",
}
# Named formats that map onto a field-name rule
_FORMAT_FIELDS = {"email": "email", "uri": "url", "url": "url", "uuid": "uuid"}


def _int_range(field: str) -> tuple[int, int]:
    for test, lo, hi in _INT_RANGES:
        if test(field):
            return lo, hi
    return 1, 100


def _is_percent(field: str) -> bool:
    return any(w in field for w in ("percent", "portion")) or field.endswith("_allocation") or field in (
        "uplift",
        "progress",
    )


def _time_window(field: str) -> tuple[int, int]:
    """(lo, hi) days around the anchor for a date or time field, from its name."""
    if field == "date_of_birth":
        return -85 * 365, -18 * 365
    if "updated" in field or field.startswith("last_"):
        return -120, 0
    if field.startswith(("due", "next_", "expires", "newest")) or "follow_up" in field:
        return -30, 90
    if field.startswith(("start", "end")) or field in ("time_of_day", "effective_from"):
        return -90, 90
    if field in ("open_date", "case_start_date"):
        return -1095, -30
    return -730, 0


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):  # JSON-schema style ["string", "null"]: never pick null
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        return "object" if "properties" in schema else "string"
    return kind


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    """Fold an ``allOf`` (Clio's ``X`` = ``X_base`` + associations) into one object schema."""
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    props: dict[str, Any] = dict(merged.get("properties", {}))
    for part in schema["allOf"]:
        part = _merge_all_of(part)
        props.update(part.get("properties", {}))
        for key, value in part.items():
            if key != "properties":
                merged.setdefault(key, value)
    if props:
        merged["properties"] = props
        merged.setdefault("type", "object")
    return merged


def _bounded(gen: Gen, schema: dict[str, Any], rng: random.Random, integer: bool) -> Gen:
    """Honour minimum/maximum when a schema declares them (only request params do in Clio's spec)."""
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is None and hi is None:
        return gen
    low = lo if lo is not None else (hi - 100 if hi is not None else 0)
    high = hi if hi is not None else low + 100

    def fitted() -> Any:
        value = gen()
        if low <= value <= high:
            return value
        return rng.randint(int(low), int(high)) if integer else round(rng.uniform(low, high), 2)

    return fitted


def _sized(gen: Gen, schema: dict[str, Any]) -> Gen:
    """Honour minLength/maxLength when present (Clio's spec has none, hand-made schemas may)."""
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if lo is None and hi is None:
        return gen

    def fitted() -> str:
        value = gen()
        if lo is not None and len(value) < lo:
            value = value + "x" * (lo - len(value))
        return value[:hi] if hi is not None else value

    return fitted


def _matching_sign(currency: dict[str, Any]) -> dict[str, Any]:
    """A Currency's sign must be its code's ("USD" with "£" would look broken)."""
    if isinstance(currency["code"], str) and isinstance(currency["sign"], str):
        currency["sign"] = CURRENCIES.get(currency["code"], currency["sign"])
    return currency


def _currency_obj(code: str) -> dict[str, Any]:
    ids = {"USD": 1, "CAD": 2, "EUR": 3, "GBP": 4, "AUD": 5}
    return {"id": ids[code], "code": code, "sign": CURRENCIES[code]}
