"""Fixed vocabularies the demo systems draw from: licensing rules, Head Start Program
Performance Standards, CLASS and ERS subscales, trainings, program names.

The rule and standard texts are paraphrased for a fictional state; citations follow the real
shapes (state administrative code ``R9-5-401(3)``, 45 CFR ``1302.47(b)(5)(i)``).
"""

from __future__ import annotations

__all__ = [
    "CENTER_BRANDS",
    "CENTER_KINDS",
    "CENTER_RULES",
    "CLASS_DOMAINS",
    "COACHES",
    "COACHING_TOPICS",
    "ERS_SUBSCALES",
    "EXEMPT_NAMES",
    "FCC_RULES",
    "HSPPS_STANDARDS",
    "INSPECTORS",
    "LICENSING_CONSULTANTS",
    "ROOM_NAMES",
    "TRAININGS",
]

# (citation, rule text, risk weight)
CENTER_RULES: tuple[tuple[str, str, float], ...] = (
    ("R9-5-401(3)", "Staff-to-child ratios maintained for each age group", 3.0),
    ("R9-5-401(7)", "Children supervised at all times, including nap and transitions", 3.0),
    ("R9-5-403(A)", "Fingerprint clearance card on file for each staff member", 3.0),
    ("R9-5-404(B)", "Staff records include CPR and first-aid certification", 2.0),
    ("R9-5-305(2)", "Emergency and evacuation plan posted; drills documented monthly", 2.0),
    ("R9-5-501(C)", "Medications stored locked, labelled and logged", 2.5),
    ("R9-5-502(4)", "Diapering area sanitized after each use", 2.0),
    ("R9-5-503(1)", "Hand washing by staff and children at required times", 1.5),
    ("R9-5-508(A)", "Safe sleep: infants placed on back in a crib with no soft bedding", 3.0),
    ("R9-5-513(2)", "Meals and snacks meet the posted menu and nutrition standards", 1.0),
    ("R9-5-601(B)", "Indoor activity area provides 25 square feet per child", 1.5),
    ("R9-5-602(3)", "Outdoor play area fenced, equipment free of hazards", 2.0),
    ("R9-5-604(1)", "Hazardous materials inaccessible to children", 2.5),
    ("R9-5-206(D)", "Child enrollment records include immunization status", 1.0),
    ("R9-5-209(2)", "Attendance records kept daily with sign-in and sign-out", 1.0),
)

FCC_RULES: tuple[tuple[str, str, float], ...] = (
    ("R9-3-301(1)", "Provider-to-child ratio and group size within license", 3.0),
    ("R9-3-302(A)", "Household members over 18 hold a fingerprint clearance card", 3.0),
    ("R9-3-306(4)", "Firearms and ammunition stored locked and separately", 3.0),
    ("R9-3-308(B)", "Smoke detector and fire extinguisher present and working", 2.0),
    ("R9-3-310(2)", "Safe sleep practices for infants", 3.0),
    ("R9-3-312(1)", "Swimming pool or water hazard enclosed", 2.5),
    ("R9-3-314(C)", "Provider CPR and first-aid certification current", 2.0),
    ("R9-3-402(3)", "Child records include emergency contacts and immunizations", 1.0),
    ("R9-3-405(1)", "Nutritious meals and snacks provided", 1.0),
    ("R9-3-407(2)", "Daily attendance record kept", 1.0),
)

# (citation, requirement) from 45 CFR Part 1302, paraphrased.
HSPPS_STANDARDS: tuple[tuple[str, str], ...] = (
    ("1302.47(b)(1)(ix)", "Facilities are clean and free of pests and hazards"),
    ("1302.47(b)(5)(i)", "Staff and volunteers follow child abuse and neglect reporting"),
    ("1302.47(b)(5)(iv)", "Children are never left unsupervised (active supervision)"),
    ("1302.90(b)(1)", "Criminal background checks completed before hire"),
    ("1302.92(b)", "Staff have a coordinated training and professional development plan"),
    ("1302.42(b)(1)", "Each child's health status determined within 90 days of entry"),
    ("1302.33(a)(1)", "Developmental screening completed within 45 days of entry"),
    ("1302.21(b)(2)", "Class sizes and ratios meet the limits for the age group"),
    ("1302.34(b)(1)", "Parents are engaged in their child's education"),
    ("1302.101(a)(1)", "A management system ensures program oversight"),
    ("1302.44(a)(1)", "Meals and snacks meet USDA CACFP nutrition requirements"),
    ("1302.35(c)(3)", "Home visits are planned with the family"),
)

# instrument -> (domain, lowest typical score, highest typical score)
CLASS_DOMAINS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "CLASS Pre-K": (
        ("Emotional Support", 5.0, 6.9),
        ("Classroom Organization", 4.6, 6.7),
        ("Instructional Support", 1.8, 4.4),
    ),
    "CLASS Toddler": (
        ("Emotional and Behavioral Support", 4.5, 6.8),
        ("Engaged Support for Learning", 2.4, 5.2),
    ),
    "CLASS Infant": (("Responsive Caregiving", 4.0, 6.5),),
}

ERS_SUBSCALES: dict[str, tuple[str, ...]] = {
    "ECERS-3": (
        "Space and Furnishings",
        "Personal Care Routines",
        "Language and Literacy",
        "Learning Activities",
        "Interaction",
        "Program Structure",
    ),
    "ITERS-3": (
        "Space and Furnishings",
        "Personal Care Routines",
        "Language and Books",
        "Activities",
        "Interaction",
        "Program Structure",
    ),
    "FCCERS-3": (
        "Space and Furnishings",
        "Personal Care Routines",
        "Language and Books",
        "Activities",
        "Interaction",
        "Program Structure",
    ),
}

# (title, PD topic area, clock hours)
TRAININGS: tuple[tuple[str, str, float], ...] = (
    ("Infant and Toddler Development", "ChildGrowthAndDevelopment", 3.0),
    ("Understanding Challenging Behavior", "ChildGrowthAndDevelopment", 2.0),
    ("Pediatric CPR and First Aid", "HealthSafetyAndNutrition", 6.0),
    ("Safe Sleep for Infants", "HealthSafetyAndNutrition", 1.0),
    ("Recognizing and Reporting Child Abuse", "HealthSafetyAndNutrition", 2.0),
    ("Medication Administration", "HealthSafetyAndNutrition", 2.5),
    ("Early Literacy in Everyday Routines", "LearningEnvironmentsAndCurriculum", 3.0),
    ("Math Talk with Preschoolers", "LearningEnvironmentsAndCurriculum", 2.0),
    ("Designing Learning Centers", "LearningEnvironmentsAndCurriculum", 4.0),
    ("Partnering with Families", "FamilyAndCommunityRelationships", 2.0),
    ("Supporting Dual Language Learners", "FamilyAndCommunityRelationships", 3.0),
    ("Observation and Documentation", "ObservationAndAssessment", 3.0),
    ("Using Developmental Screening Results", "ObservationAndAssessment", 2.0),
    ("CLASS Introduction: Effective Interactions", "ObservationAndAssessment", 6.0),
    ("Ethics and Professionalism in ECE", "ProfessionalismAndLeadership", 1.5),
    ("Leading a Reflective Team", "ProfessionalismAndLeadership", 4.0),
    ("Budgeting for Child Care Programs", "ProgramManagement", 3.0),
    ("Writing a Quality Improvement Plan", "ProgramManagement", 2.0),
)

COACHING_TOPICS: tuple[str, ...] = (
    "QIP goal review",
    "ERS self-assessment walkthrough",
    "room arrangement for learning centers",
    "transition routines",
    "language-rich interactions",
    "family engagement plan",
    "health and safety checklist",
    "lesson planning with the curriculum",
    "outdoor play environment",
    "staff schedule and ratios",
    "rating portfolio preparation",
)

COACHES: tuple[str, ...] = (
    "Dana Whitfield", "Marisol Ortega", "Grace Liu", "Terrence Boyd", "Helen Novak",
    "Irene Castillo", "Paul Mbeki", "Joanna Reyes",
)  # fmt: skip

LICENSING_CONSULTANTS: tuple[str, ...] = (
    "Renee Alvarez", "Karl Sorensen", "Tamika Washington", "Michael Osei", "Lena Brandt",
)  # fmt: skip
"""Each consultant covers the counties whose index (in ``COUNTIES``) falls to them."""

INSPECTORS: tuple[str, ...] = (
    "R. Alvarez", "K. Sorensen", "T. Washington", "M. Osei", "L. Brandt", "J. Kaur",
    "S. McBride", "D. Lindqvist",
)  # fmt: skip

CENTER_BRANDS: tuple[str, ...] = (
    "ABC", "Little Sprouts", "Bright Beginnings", "Kiddie Kampus", "Sunshine", "Rainbow",
    "Tiny Tots", "Happy Hearts", "Building Blocks", "Growing Minds", "Creative Kids",
    "Stepping Stones", "Kids Kingdom", "Wee Care", "First Steps", "Learning Tree",
    "Little Explorers", "Noah's Ark", "Jack & Jill", "Apple Tree", "Treehouse", "Cornerstone",
    "Discovery", "Hilltop", "Kinder Haus", "Busy Bees", "Acorn", "Morning Star", "KDC",
    "Puddle Jumpers", "Play & Learn", "Small Wonders", "Giggles & Grins", "Helping Hands",
    "Mustard Seed", "Little Lambs", "Lighthouse", "Open Arms", "Kids & Company", "YMCA",
)  # fmt: skip

CENTER_KINDS: tuple[str, ...] = (
    "Learning Center",
    "Child Care Center",
    "Early Learning Center",
    "Child Development Center",
    "Preschool",
    "Academy",
    "Daycare",
    "Early Learning Academy",
    "Preschool & Child Care",
)

EXEMPT_NAMES: tuple[str, ...] = (
    "{town} Elementary Pre-K",
    "Grace Fellowship Preschool",
    "St. Brigid Parish Preschool",
    "{town} Public Schools Early Learning",
    "First Baptist Church Weekday School",
    "{county} Tribal Early Learning",
)

ROOM_NAMES: tuple[str, ...] = (
    "Butterflies", "Ladybugs", "Caterpillars", "Dolphins", "Bluebirds", "Owls", "Bunnies",
    "Turtles", "Sunflowers", "Explorers", "Busy Bees", "Little Stars",
)  # fmt: skip
