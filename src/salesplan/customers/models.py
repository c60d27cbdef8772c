"""Customers: the companies we sell to (accounts), the people in them (contacts) and
the people who might become customers (leads)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from salesplan.core.models import VersionedModel
from salesplan.core.money import AmountField, CurrencyField
from salesplan.core.visibility import VisibleManager


def search_key(*parts: str | None) -> str:
    """Lower-cased, trimmed text used for fast prefix search on an indexed column."""
    return " ".join(p.strip().lower() for p in parts if p and p.strip())[:200]


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    FORMER = "former", "Former customer"


class Tier(models.TextChoices):
    STRATEGIC = "strategic", "Strategic"
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMB = "smb", "Small business"


class Account(VersionedModel):
    """A company we sell to or might sell to."""

    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    domain = models.CharField(max_length=200, blank=True, db_index=True,
                              help_text="Web domain, e.g. example.com; used to spot duplicates.")
    website = models.URLField(blank=True)
    industry = models.CharField(max_length=80, blank=True, db_index=True)
    employees = models.PositiveIntegerField(null=True, blank=True,
                                            validators=[MaxValueValidator(10_000_000)])
    annual_revenue = AmountField(null=True, blank=True, validators=[MinValueValidator(0)])
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True, db_index=True)
    state = models.CharField("state/region", max_length=100, blank=True, db_index=True)
    county = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="US", help_text="ISO 3166 two-letter code.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="accounts")
    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices,
                                 default=Lifecycle.PROSPECT, db_index=True)
    potential = AmountField(null=True, blank=True, validators=[MinValueValidator(0)],
                            help_text="Estimated yearly sales potential.")
    currency = CurrencyField()

    objects = VisibleManager()
    visibility_account_field = "self"

    class Meta:
        ordering = ["name_key", "id"]
        indexes = [
            models.Index(fields=["owner", "name_key", "id"]),
            models.Index(fields=["name_key", "id"]),
            models.Index(fields=["owner", "lifecycle", "name_key", "id"]),
            models.Index(fields=["owner", "domain", "id"]),
            models.Index(Lower("domain"), name="account_domain_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = search_key(self.name)
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    INFLUENCER = "influencer", "Influencer"
    CHAMPION = "champion", "Champion"
    USER = "user", "User"
    GATEKEEPER = "gatekeeper", "Gatekeeper"
    OTHER = "other", "Other"


class Contact(VersionedModel):
    """A person at an account."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    title = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    email_secondary = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    mobile = models.CharField(max_length=40, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="contacts")
    buying_role = models.CharField(max_length=20, choices=BuyingRole.choices, blank=True)
    do_not_contact = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="contacts")

    objects = VisibleManager()
    visibility_account_field = "account"
    # Marketing builds campaign audiences from contacts (read-only: see core.permissions).
    visibility_roles_seeing_all = ("marketing",)

    class Meta:
        ordering = ["name_key", "id"]
        indexes = [
            models.Index(fields=["owner", "name_key", "id"]),
            models.Index(fields=["name_key", "id"]),
            models.Index(fields=["account", "name_key"]),
            models.Index(fields=["owner", "email", "id"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs):
        self.name_key = search_key(self.last_name, self.first_name)
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    WORKING = "working", "Working"
    NURTURING = "nurturing", "Nurturing"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"
    CONVERTED = "converted", "Converted"


class LeadSource(models.TextChoices):
    WEB = "web", "Website"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"
    OUTBOUND = "outbound", "Outbound"
    PARTNER = "partner", "Partner"
    ADVERTISING = "advertising", "Advertising"
    OTHER = "other", "Other"


class Lead(VersionedModel):
    """Someone who may become a customer; converting makes an account, contact and deal."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    title = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    website = models.URLField(blank=True)
    industry = models.CharField(max_length=80, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True,
                                            validators=[MaxValueValidator(10_000_000)])
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField("state/region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER)
    campaign = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW,
                              db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="leads")
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_account = models.ForeignKey(Account, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    converted_contact = models.ForeignKey(Contact, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    converted_opportunity = models.ForeignKey("pipeline.Opportunity", null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="+")

    objects = VisibleManager()
    visibility_roles_seeing_all = ("marketing",)

    class Meta:
        ordering = ["name_key", "id"]
        indexes = [
            models.Index(fields=["owner", "name_key", "id"]),
            models.Index(fields=["name_key", "id"]),
            models.Index(fields=["owner", "status", "name_key", "id"]),
            models.Index(fields=["owner", "email", "id"]),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} ({self.company})" if self.company else name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args, **kwargs):
        self.name_key = search_key(self.last_name, self.first_name)
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)
