"""Word lists the demo company is made of: firms, people, products, campaigns.

Plain data, no logic; the phone numbers the generator builds use 555-01xx, which is
reserved for fiction, and the e-mail domains are invented company names.
"""

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew",
    "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca",
    "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy", "Jacob",
    "Amy", "Gary", "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Emma",
    "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon",
    "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander",
    "Rachel", "Patrick", "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia",
    "Dennis", "Heather", "Jerry", "Helen", "Tyler", "Catherine", "Aaron", "Diane", "Jose",
    "Julie", "Adam", "Victoria", "Nathan", "Joyce", "Henry", "Lauren", "Zachary", "Kelly",
    "Douglas", "Christina", "Peter", "Ruth", "Kyle", "Joan", "Noah", "Virginia", "Ethan",
    "Judith", "Jeremy", "Evelyn", "Christian", "Hannah", "Walter", "Andrea", "Keith", "Megan",
    "Austin", "Cheryl", "Roger", "Jacqueline", "Terry", "Madison", "Sean", "Teresa", "Gerald",
    "Abigail", "Carl", "Sophia", "Dylan", "Martha", "Harold", "Sara", "Jordan", "Gloria",
    "Jesse", "Janice", "Bryan", "Kathryn", "Lawrence", "Ann", "Arthur", "Isabella", "Gabriel",
    "Judy", "Bruce", "Charlotte", "Logan", "Julia", "Billy", "Grace", "Joe", "Amber", "Alan",
    "Alice", "Juan", "Jean", "Elijah", "Denise", "Willie", "Frances", "Albert", "Danielle",
    "Wayne", "Marilyn", "Randy", "Natalie", "Mason", "Beverly", "Vincent", "Diana", "Liam",
    "Brittany", "Roy", "Theresa", "Bobby", "Kayla", "Caleb", "Alexis", "Bradley", "Doris",
    "Russell", "Lori", "Lucas", "Tiffany", "Priya", "Wei", "Mohammed", "Aisha", "Carlos",
    "Lucia", "Hiroshi", "Mei", "Rajesh", "Fatima", "Diego", "Ana", "Dmitri", "Ingrid",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno",
    "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
    "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman",
    "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar",
    "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn",
    "Kowalski", "Hoffman", "Schultz", "Novak", "Lindqvist", "Okafor", "Yamamoto", "Singh",
    "Larsen", "Becker", "Weber", "Fischer", "Keller", "Bauer", "Richter", "Klein", "Wolf",
)

# Firm names: "<place word> <trade>", "<surname> <trade>", "<surname> & <surname> <trade>".
PLACE_WORDS = (
    "Granite", "Summit", "Blue River", "Iron Creek", "Prairie", "Lakeshore", "Redwood",
    "Cedar", "Pioneer", "Frontier", "Keystone", "Harbor", "Northstar", "Eagle", "Liberty",
    "Heartland", "Continental", "Atlas", "Sterling", "Riverside", "Highland", "Pinnacle",
    "Cascade", "Bluegrass", "Sierra", "Gulf Coast", "Great Plains", "Tri-State", "Midland",
    "Allied", "United", "Premier", "Precision", "Superior", "Apex", "Vanguard", "Patriot",
    "Ridgeline", "Canyon", "Copper", "Silver Lake", "Oakmont", "Bay", "Delta", "Falcon",
    "Mesa", "Timberline", "Clearwater", "Stonebridge", "Evergreen", "Big Sky", "Red Rock",
)
TRADES = (
    "Manufacturing", "Fabrication", "Machining", "Tool & Die", "Metalworks", "Plastics",
    "Castings", "Forge", "Packaging", "Logistics", "Construction", "Builders", "Energy",
    "Utilities", "Foods", "Beverage", "Dairy", "Mills", "Chemical", "Coatings", "Printing",
    "Automotive", "Aerospace", "Marine", "Electric", "Controls", "Hydraulics", "Pumps",
    "Paper", "Lumber", "Steel", "Aluminum", "Glass", "Textiles", "Farms", "Mining",
    "Water Works", "Health System", "Medical Center", "School District", "Transit",
    "Distribution", "Cold Storage", "Brewing", "Pharma", "Electronics", "Rubber", "Composites",
)
LEGAL_SUFFIXES = ("", "", "", " Inc.", " LLC", " Co.", " Corp.", " Group", " Industries")

INDUSTRIES = (
    "Manufacturing", "Construction", "Oil & Gas", "Utilities", "Food & Beverage",
    "Automotive", "Aerospace & Defense", "Healthcare", "Education", "Government",
    "Transportation & Logistics", "Agriculture", "Mining", "Chemicals", "Pharmaceuticals",
    "Retail", "Hospitality", "Water Treatment", "Pulp & Paper", "Electronics",
)
# Trades that imply an industry, so names and industries agree most of the time.
TRADE_INDUSTRY = {
    "Construction": "Construction", "Builders": "Construction", "Energy": "Oil & Gas",
    "Utilities": "Utilities", "Foods": "Food & Beverage", "Beverage": "Food & Beverage",
    "Dairy": "Food & Beverage", "Brewing": "Food & Beverage", "Chemical": "Chemicals",
    "Coatings": "Chemicals", "Automotive": "Automotive", "Aerospace": "Aerospace & Defense",
    "Logistics": "Transportation & Logistics", "Transit": "Transportation & Logistics",
    "Distribution": "Transportation & Logistics", "Cold Storage": "Transportation & Logistics",
    "Health System": "Healthcare", "Medical Center": "Healthcare", "Pharma": "Pharmaceuticals",
    "School District": "Education", "Farms": "Agriculture", "Mining": "Mining",
    "Water Works": "Water Treatment", "Paper": "Pulp & Paper", "Electronics": "Electronics",
}

STREETS = (
    "Main", "Industrial", "Commerce", "Enterprise", "Oak", "Maple", "Cedar", "Park", "Lake",
    "Hill", "Washington", "Lincoln", "Jefferson", "Madison", "Franklin", "Airport", "Railroad",
    "Mill", "Factory", "Center", "Harbor", "River", "Technology", "Corporate", "Research",
    "Distribution", "Warehouse", "Depot", "Foundry", "Quarry", "Ridge", "Valley", "Prairie",
)
STREET_SUFFIXES = ("St", "Ave", "Blvd", "Dr", "Rd", "Pkwy", "Way", "Ct", "Ln")

# What Northwind sells; deal names say which line the deal is about.
PRODUCTS = (
    "MRO supply agreement", "Fastener restock program", "Safety & PPE program",
    "Cutting tools", "Hydraulic components", "Pneumatics retrofit", "Material handling",
    "Janitorial supplies", "Electrical components", "Bearings & power transmission",
    "Welding supplies", "Abrasives", "Packaging supplies", "Industrial vending program",
    "Lubricants contract", "Pumps & motors", "Test & measurement", "Storage & shelving",
    "Lighting retrofit", "Fleet maintenance supplies",
)
NEXT_STEPS = (
    "Send revised quote", "Schedule site walk", "Confirm budget with controller",
    "Demo vending machine on site", "Get sign-off from plant manager", "Review contract terms",
    "Send product samples", "Present ROI analysis", "Follow up on trial results",
    "Book call with purchasing", "Agree pricing tiers", "Send reference customers",
    "Prepare renewal proposal", "Align on delivery schedule", "Meet the new EHS manager",
)
LOST_REASONS = (
    "Price: went with a cheaper distributor", "No budget this year", "Chose incumbent supplier",
    "Project cancelled", "Lost to competitor on delivery times", "No decision",
    "Moved purchasing to headquarters", "Went with online marketplace",
)

TITLES_BY_ROLE = {
    "decision_maker": ("Plant Manager", "VP Operations", "Director of Operations", "Owner",
                       "General Manager"),
    "economic_buyer": ("CFO", "Controller", "Purchasing Director", "VP Finance"),
    "influencer": ("Maintenance Supervisor", "Production Engineer", "EHS Manager",
                   "Facilities Manager"),
    "champion": ("Maintenance Manager", "Operations Manager", "Reliability Engineer"),
    "user": ("Maintenance Technician", "Shift Supervisor", "Warehouse Lead"),
    "gatekeeper": ("Purchasing Agent", "Buyer", "Office Manager"),
}

LEAD_CAMPAIGNS = {
    "web": ("Website contact form", "Catalog download", "Vending program landing page"),
    "referral": ("Customer referral program",),
    "event": ("FabTech expo", "Regional safety summit", "Plant maintenance roadshow"),
    "outbound": ("Q4 outbound: manufacturing", "Fleet maintenance outbound"),
    "partner": ("Distributor partner program",),
    "advertising": ("Search ads: fasteners", "Search ads: PPE", "Trade magazine ad"),
    "other": ("",),
}

CALL_SUBJECTS = ("Check-in call", "Discuss reorder", "Follow up on quote", "Qualify needs",
                 "Pricing question", "Introduce new product line", "Renewal check-in")
MEETING_SUBJECTS = ("Site visit", "Quarterly business review", "Product demo",
                    "Plant walk-through", "Contract review", "Lunch with buyer")
EMAIL_SUBJECTS = ("Sent quote", "Sent catalog", "Shared case study", "Sent pricing sheet",
                  "Confirmed meeting", "Sent contract draft")
TASK_SUBJECTS = ("Prepare quote", "Update account plan", "Check stock levels for order",
                 "Send samples", "Set up vendor registration", "Chase signed contract")
NOTE_SUBJECTS = ("Account notes", "Competitor spotted on site", "Org change",
                 "Budget cycle notes", "Feedback from technicians")
MEETING_NOTES = (
    "Walked the line with maintenance; storeroom is disorganised, good fit for vending.",
    "Buyer wants consolidated invoicing and fewer suppliers.",
    "Incumbent is late on deliveries; they are open to a second source.",
    "Plant manager asked for an ROI estimate before next budget round.",
    "Safety audit coming up; PPE program is a priority.",
)
