namespace SegmentPortal.Core.Demo;

internal sealed record DemoCustomer(
    long CustomerId,
    string Name,
    string Email,
    string? Phone,
    string Region,
    string? City,
    string Channel,
    DateOnly SignupDate,
    int? BirthYear,
    string? Gender);

internal sealed record DemoOrder(
    long OrderId,
    long CustomerId,
    DateOnly OrderDate,
    decimal Amount,
    int Quantity,
    string? Category,
    string Channel,
    bool Returned,
    string Region);

/// <summary>The size and seed of a demo data set. Same settings, same rows.</summary>
public sealed record DemoDataSize(int Customers = 100_000, double OrdersPerCustomer = 10, int Seed = 20_240_601)
{
    public static DemoDataSize Default { get; } = new();
}

/// <summary>
/// A deterministic, realistic retail data set: customers with regions, cities, channels and demographics, and two
/// years of orders with a heavy-buyer tail, seasonal peaks (November and December, a summer bump), dormant and
/// never-buying customers, returns, and a few missing values. The same size, seed and as-of date give the same rows.
/// </summary>
internal sealed class DemoDataGenerator
{
    private static readonly string[] FirstNames =
    [
        "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James", "Mia", "William",
        "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail", "Alexander", "Emily", "Daniel", "Ella",
        "Michael", "Grace", "Mateo", "Chloe", "Sebastian", "Zoe", "Jack", "Lily", "Wei", "Mei", "Hiroshi", "Yuki",
        "Priya", "Arjun", "Fatima", "Omar", "Sofia", "Diego", "Lucia", "Pablo", "Ingrid", "Lars", "Anna", "Jan",
        "Chen", "Li", "Aisha", "Kwame", "Nadia", "Ivan", "Olga", "Marta", "Tomas", "Elena", "Ahmed", "Leila", "Ravi",
    ];

    private static readonly string[] LastNames =
    [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
        "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Wang", "Zhang", "Liu", "Patel",
        "Kim", "Muller", "Schmidt", "Rossi", "Novak", "Kowalski",
    ];

    private static readonly string[] Domains = ["example.com", "example.org", "example.net", "mail.example.com"];

    internal static readonly (string Region, double Weight, string[] Cities)[] Regions =
    [
        ("North", 0.28, ["Northport", "Lakeside", "Pinecrest", "Frostvale"]),
        ("South", 0.22, ["Southbay", "Palmview", "Riverbend", "Sunhaven"]),
        ("East", 0.20, ["Eastgate", "Harborview", "Brookfield", "Marshton"]),
        ("West", 0.18, ["Westfield", "Canyon City", "Redrock", "Goldcoast"]),
        ("Central", 0.12, ["Midtown", "Centerville", "Crossroads", "Plainsburg"]),
    ];

    private static readonly (string Channel, double Weight)[] SignupChannels =
        [("Online", 0.55), ("Store", 0.30), ("Partner", 0.15)];

    internal static readonly (string Name, double MedianPrice, double ReturnRate, double Weight)[] Categories =
    [
        ("Electronics", 120, 0.05, 0.14),
        ("Home & Garden", 45, 0.03, 0.16),
        ("Fashion", 38, 0.11, 0.20),
        ("Beauty", 22, 0.02, 0.12),
        ("Sports", 55, 0.04, 0.10),
        ("Toys", 28, 0.03, 0.08),
        ("Grocery", 18, 0.01, 0.12),
        ("Books", 15, 0.02, 0.08),
    ];

    /// <summary>Relative order volume by month (January first): Christmas peak, a summer bump, a quiet January.</summary>
    private static readonly double[] Seasonality = [0.75, 0.8, 0.9, 0.95, 1.0, 1.05, 1.15, 1.2, 0.95, 1.0, 1.5, 1.8];

    private readonly DemoDataSize _size;
    private readonly DateOnly _asOf;
    private readonly DateOnly _windowStart;
    private readonly Profile[] _profiles;

    public DemoDataGenerator(DemoDataSize size, DateOnly asOf)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size.Customers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(size.OrdersPerCustomer);
        _size = size;
        _asOf = asOf;
        _windowStart = asOf.AddMonths(-24);
        _profiles = new Profile[size.Customers];
    }

    public DateOnly AsOf => _asOf;

    /// <summary>All customers. Must be enumerated before <see cref="Orders"/>: it also draws each one's buying habits.</summary>
    public IEnumerable<DemoCustomer> Customers()
    {
        var random = new Random(_size.Seed);
        var activeDays = _asOf.DayNumber - _windowStart.DayNumber;
        for (var i = 0; i < _size.Customers; i++)
        {
            var id = 100_001L + i;
            var first = FirstNames[random.Next(FirstNames.Length)];
            var last = LastNames[random.Next(LastNames.Length)];
            var region = Pick(random, Regions, r => r.Weight);
            var city = random.NextDouble() < 0.01 ? null : region.Cities[Skewed(random, region.Cities.Length)];
            var channel = Pick(random, SignupChannels, c => c.Weight).Channel;

            // Signups grow over five years: more recent customers are more common.
            var signupAgeDays = (int)(Math.Pow(random.NextDouble(), 1.6) * 5 * 365) + 1;
            var signup = _asOf.AddDays(-signupAgeDays);
            var birthYear = random.NextDouble() < 0.03 ? (int?)null : Math.Clamp((int)Math.Round(Normal(random, 1983, 13)), 1940, 2007);
            var genderRoll = random.NextDouble();
            string? gender = genderRoll switch
            {
                < 0.49 => "F",
                < 0.96 => "M",
                < 0.98 => "X",
                _ => null,
            };

            // Buying habits: a log-normal appetite gives a few heavy buyers; some never buy; some went dormant.
            var appetite = Math.Exp(Normal(random, 0, 1.0));
            if (random.NextDouble() < 0.01)
            {
                appetite *= 8;
            }
            var firstDay = Math.Max(signup.DayNumber, _windowStart.DayNumber);
            var lastDay = _asOf.DayNumber - 1;
            var latestDormantStop = _asOf.DayNumber - 7 * 30;
            if (random.NextDouble() < 0.2 && latestDormantStop - firstDay > 30)
            {
                // Dormant: bought for at least a month, then stopped more than seven months ago.
                lastDay = random.Next(firstDay + 30, latestDormantStop);
            }
            var span = Math.Max(0, lastDay - firstDay);
            // Relative buying rate; Orders() scales all rates so the base averages OrdersPerCustomer.
            var rate = random.NextDouble() < 0.06 ? 0 : appetite * span / activeDays;
            var preferred = Pick(random, Categories, c => c.Weight).Name;
            _profiles[i] = new Profile(id, firstDay, lastDay, rate, preferred, channel, region.Region);

            yield return new DemoCustomer(
                id,
                $"{first} {last}",
                $"{first}.{last}{id % 1000}@{Domains[(int)(id % Domains.Length)]}".ToLowerInvariant(),
                random.NextDouble() < 0.02 ? null : $"+1-555-{random.Next(200, 999)}-{random.Next(1000, 9999)}",
                region.Region,
                city,
                channel,
                signup,
                birthYear,
                gender);
        }
    }

    /// <summary>Two years of orders for the customers drawn by <see cref="Customers"/>.</summary>
    public IEnumerable<DemoOrder> Orders()
    {
        if (_profiles.Length > 0 && _profiles[^1].CustomerId == 0)
        {
            throw new InvalidOperationException("Enumerate Customers() before Orders().");
        }
        var random = new Random(_size.Seed + 1);
        var totalRate = _profiles.Sum(p => p.Rate);
        var scale = totalRate > 0 ? _size.OrdersPerCustomer * _profiles.Length / totalRate : 0;
        var orderId = 5_000_001L;
        foreach (var profile in _profiles)
        {
            // Buyers place at least one order; the rest follows their appetite.
            var count = profile.Rate > 0 ? 1 + Poisson(random, Math.Max(0, profile.Rate * scale - 1)) : 0;
            for (var n = 0; n < count; n++)
            {
                var day = SeasonalDay(random, profile.FirstDay, profile.LastDay);
                var category = random.NextDouble() < 0.6
                    ? Categories.First(c => c.Name == profile.PreferredCategory)
                    : Pick(random, Categories, c => c.Weight);
                var quantity = random.NextDouble() switch
                {
                    < 0.60 => 1,
                    < 0.80 => 2,
                    < 0.95 => random.Next(3, 6),
                    _ => random.Next(6, 11),
                };
                var unitPrice = category.MedianPrice * Math.Exp(Normal(random, 0, 0.55));
                var amount = Math.Round((decimal)(unitPrice * quantity), 2);
                yield return new DemoOrder(
                    orderId++,
                    profile.CustomerId,
                    DateOnly.FromDayNumber(day),
                    Math.Max(amount, 0.5m),
                    quantity,
                    random.NextDouble() < 0.002 ? null : category.Name,
                    OrderChannel(random, profile.SignupChannel),
                    random.NextDouble() < category.ReturnRate,
                    // Sold by the customer's regional team (what a regional manager's row rule filters on).
                    profile.Region);
            }
        }
    }

    private static string OrderChannel(Random random, string signupChannel)
    {
        var roll = random.NextDouble();
        return signupChannel switch
        {
            "Store" => roll < 0.6 ? "Store" : roll < 0.85 ? "Web" : roll < 0.95 ? "App" : "Phone",
            _ => roll < 0.5 ? "Web" : roll < 0.8 ? "App" : roll < 0.95 ? "Store" : "Phone",
        };
    }

    private static int SeasonalDay(Random random, int firstDay, int lastDay)
    {
        const double maxWeight = 1.8;
        while (true)
        {
            var day = random.Next(firstDay, lastDay + 1);
            var month = DateOnly.FromDayNumber(day).Month;
            if (random.NextDouble() * maxWeight < Seasonality[month - 1])
            {
                return day;
            }
        }
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items, Func<T, double> weight)
    {
        var roll = random.NextDouble() * items.Sum(weight);
        foreach (var item in items)
        {
            roll -= weight(item);
            if (roll < 0)
            {
                return item;
            }
        }
        return items[^1];
    }

    /// <summary>An index biased to the front: the first city of a region is its biggest.</summary>
    private static int Skewed(Random random, int count) => (int)(Math.Pow(random.NextDouble(), 1.7) * count);

    private static double Normal(Random random, double mean, double sd)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return mean + sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static int Poisson(Random random, double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }
        if (mean > 30)
        {
            return Math.Max(0, (int)Math.Round(Normal(random, mean, Math.Sqrt(mean))));
        }
        var limit = Math.Exp(-mean);
        var k = 0;
        var p = random.NextDouble();
        while (p > limit)
        {
            k++;
            p *= random.NextDouble();
        }
        return k;
    }

    private readonly record struct Profile(
        long CustomerId, int FirstDay, int LastDay, double Rate, string PreferredCategory, string SignupChannel, string Region);
}
