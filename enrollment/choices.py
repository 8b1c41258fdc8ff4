from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class HouseholdRegistrationType(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class Relationship(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER = "other", _("Other relative")


class SizeClass(models.TextChoices):
    """Enterprise size classification, 划型 (DOMAIN glossary)."""

    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class FeeReliefKind(models.TextChoices):
    """减免缓 (DOMAIN glossary): reduction 减, exemption 免, deferral 缓."""

    REDUCTION = "reduction", _("Reduction")
    EXEMPTION = "exemption", _("Exemption")
    DEFERRAL = "deferral", _("Deferral")


class FeeReliefScheme(models.TextChoices):
    """The employer contributions a fee-relief policy can cover (DOMAIN E23)."""

    EMPLOYEE_PENSION = "employee_pension", _("Employee pension")
    UNEMPLOYMENT = "unemployment", _("Unemployment insurance")
    WORK_INJURY = "work_injury", _("Work-injury insurance")


class FeeReliefStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class CardStatus(models.TextChoices):
    """The social-security card (社保卡, DOMAIN glossary `social_security_card`)."""

    NONE = "none", _("No card")
    ACTIVE = "active", _("In use")
    LOST = "lost", _("Reported lost")
    CANCELLED = "cancelled", _("Cancelled")


class SpecialGroup(models.TextChoices):
    """The special groups a person may belong to (DOMAIN glossary, §8.1 `PersonCategory`)."""

    MINIMUM_LIVING_ALLOWANCE = "minimum_living_allowance", _("Minimum living allowance")
    EXTREME_POVERTY_SUPPORT = "extreme_poverty_support", _("Extreme-poverty support")
    RETURNED_TO_POVERTY = "returned_to_poverty", _("Returned to poverty")
    LIFTED_OUT_OF_POVERTY = "lifted_out_of_poverty", _("Lifted out of poverty")
    SEVERE_DISABILITY = "severe_disability", _("Severe disability")
    LOW_INCOME = "low_income", _("Low income")
    ORPHAN = "orphan", _("Orphan")


class CategorySource(models.TextChoices):
    """The department whose list a membership comes from (DOMAIN glossary)."""

    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    RURAL_REVITALIZATION = "rural_revitalization", _("Rural revitalization")
    DISABILITY_FEDERATION = "disability_federation", _("Disability federation")


class Scheme(models.TextChoices):
    """The insurance schemes a person can be enrolled in (DOMAIN glossary, §8.1 Enrollment)."""

    EMPLOYEE_PENSION = "employee_pension", _("Employee pension")
    GOV_INST_PENSION = "gov_inst_pension", _("Government and institution pension")
    RESIDENT_PENSION = "resident_pension", _("Resident pension")
    UNEMPLOYMENT = "unemployment", _("Unemployment insurance")
    WORK_INJURY = "work_injury", _("Work-injury insurance")
    EMPLOYEE_MEDICAL = "employee_medical", _("Employee medical insurance")
    RESIDENT_MEDICAL = "resident_medical", _("Resident medical insurance")
    MATERNITY = "maternity", _("Maternity insurance")


# Schemes an employer may pay into; the resident schemes are the person's own (DOMAIN §1.1, §2.1).
RESIDENT_SCHEMES = frozenset({Scheme.RESIDENT_PENSION, Scheme.RESIDENT_MEDICAL})
# The two basic pension schemes that exclude the resident pension (DOMAIN §1.1, §1.6).
EMPLOYMENT_PENSION_SCHEMES = frozenset({Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION})
# Schemes with a personal account (DOMAIN §1.2, §2.1).
ACCOUNT_SCHEMES = frozenset({Scheme.EMPLOYEE_PENSION, Scheme.GOV_INST_PENSION, Scheme.RESIDENT_PENSION})


class EnrollmentStatus(models.TextChoices):
    """DOMAIN §8.2 Enrollment."""

    ACTIVE = "active", _("Contributing")
    SUSPENDED_CONTRIB = "suspended_contrib", _("Contributions suspended")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    RECEIVING = "receiving", _("Receiving benefits")
    TERMINATED = "terminated", _("Terminated")


# An enrollment in these states is closed; any other is the person's one open enrollment in the scheme.
CLOSED_ENROLLMENT_STATUSES = (EnrollmentStatus.TRANSFERRED_OUT, EnrollmentStatus.TERMINATED)


class TerminationReason(models.TextChoices):
    """Why an enrollment ended (DOMAIN §8.2: death, dual-scheme closure, transfer to the employee scheme)."""

    DEATH = "death", _("Death")
    DUAL_SCHEME = "dual_scheme", _("Dual receipt of pensions")
    TRANSFER_TO_EMPLOYEE_SCHEME = "transfer_to_employee_scheme", _("Transfer to the employee scheme")


class PeriodKind(models.TextChoices):
    """A contribution covers a year (resident pension) or a month (employee schemes), DOMAIN §8.1."""

    YEAR = "year", _("Year")
    MONTH = "month", _("Month")


class Payer(models.TextChoices):
    """Who paid a contribution record's personal part."""

    PERSON = "person", _("The person")
    EMPLOYER = "employer", _("The employer")
    GOVERNMENT = "government", _("The government (proxy payment)")
