using System.Globalization;
using System.Text;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;

using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;
namespace SegmentPortal.Tests.Queries;

/// <summary>A column of the generated data: the type CSV detection should give it, and the role the test sets.</summary>
public sealed record PropertyColumn(string Name, ColumnType Type, FieldRole Role = FieldRole.None)
{
    /// <summary>How rules treat the column: numbers, dates (and date-times), booleans, categories (text with a role), text.</summary>
    public FieldKind Kind => Type switch
    {
        ColumnType.Integer or ColumnType.Decimal => FieldKind.Number,
        ColumnType.Date or ColumnType.Timestamp => FieldKind.Date,
        ColumnType.Boolean => FieldKind.Boolean,
        _ => Role is FieldRole.Dimension or FieldRole.CustomerId ? FieldKind.Category : FieldKind.Text,
    };
}

/// <summary>
/// Generated rows, as CSV cell texts (null for an empty cell) and as typed values parsed from those texts: long, double,
/// DateOnly, DateTime, bool or string, null for an empty cell.
/// </summary>
public sealed class PropertyTable
{
    public PropertyTable(IReadOnlyList<PropertyColumn> columns, IReadOnlyList<string?[]> cells)
    {
        Columns = columns;
        Cells = cells;
        Rows = cells.Select(row => row.Select((text, i) => Parse(text, columns[i].Type)).ToArray()).ToList();
        var index = columns.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        _index = index;
    }

    private readonly Dictionary<string, int> _index;

    public IReadOnlyList<PropertyColumn> Columns { get; }

    public IReadOnlyList<string?[]> Cells { get; }

    public IReadOnlyList<object?[]> Rows { get; }

    public PropertyColumn Column(string name) => Columns[_index[name]];

    public bool Has(string name) => _index.ContainsKey(name);

    public object? Value(object?[] row, string column) => row[_index[column]];

    /// <summary>The table as RFC 4180 CSV: values with commas, quotes or surrounding spaces are quoted; empty cells are empty.</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(',', Columns.Select(c => c.Name))).Append('\n');
        foreach (var row in Cells)
        {
            csv.Append(string.Join(',', row.Select(Quote))).Append('\n');
        }
        return csv.ToString();
    }

    private static string Quote(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var needsQuotes = text.Contains(',') || text.Contains('"') || text.Trim() != text;
        return needsQuotes ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private static object? Parse(string? text, ColumnType type)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        var invariant = CultureInfo.InvariantCulture;
        return type switch
        {
            ColumnType.Integer => long.Parse(text, NumberStyles.AllowLeadingSign, invariant),
            ColumnType.Decimal => double.Parse(text, NumberStyles.Float, invariant),
            ColumnType.Date => DateOnly.ParseExact(text, "yyyy-MM-dd", invariant),
            ColumnType.Timestamp => DateTime.ParseExact(text, "yyyy-MM-dd HH:mm:ss", invariant),
            ColumnType.Boolean => text switch
            {
                "true" => true,
                "false" => false,
                _ => throw new FormatException($"Not a boolean: {text}"),
            },
            _ => text,
        };
    }
}

/// <summary>
/// Seeded customers and orders for the rule property test. Customers have every column type (whole numbers, decimals,
/// mixed-case text with empty and whitespace-only values, a category, a date, a date-time, a boolean), each with empty
/// cells (and two names of a tab and of a no-break space). Orders are lines (an order has one to three lines, with the same id and date); some have no date, amount or
/// category, a few belong to no known customer or to none, a few are dated after "today", and a fifth of the customers
/// never ordered. Amounts are multiples of 0.25, so sums and averages are exact in binary floating point.
/// </summary>
public sealed class RulePropertyData
{
    public const string CustomerKey = "id";
    public const string OrderId = "order_id";
    public const string OrderCustomer = "customer_id";
    public const string OrderDate = "order_date";
    public const string OrderAmount = "amount";
    public const string OrderCategory = "category";

    public static readonly IReadOnlyList<PropertyColumn> CustomerColumns =
    [
        new(CustomerKey, ColumnType.Integer, FieldRole.CustomerId),
        new("name", ColumnType.Text),
        new("city", ColumnType.Text),
        new("tier", ColumnType.Text, FieldRole.Dimension),
        new("visits", ColumnType.Integer),
        new("score", ColumnType.Decimal),
        new("signup", ColumnType.Date),
        new("last_login", ColumnType.Timestamp),
        new("vip", ColumnType.Boolean),
    ];

    public static readonly IReadOnlyList<PropertyColumn> OrderColumns =
    [
        new(OrderId, ColumnType.Integer, FieldRole.OrderId),
        new(OrderCustomer, ColumnType.Integer, FieldRole.CustomerId),
        new(OrderDate, ColumnType.Date, FieldRole.EventDate),
        new(OrderAmount, ColumnType.Decimal, FieldRole.Amount),
        new(OrderCategory, ColumnType.Text, FieldRole.Dimension),
    ];

    public static readonly string[] Names =
    [
        "Ann", "ann", "ANN", "Anna", "Annabel", "Bo", "bo", "Björn", "Cy", "Zoë", "ZOË", "Élise", "élise", "Di", "Mary Ann",
        "mary ann", "O'Neil", "Smith, Jo", "Ed", "Fi", "Lee", "LEE", "Max", "Maxime", "Åsa", " Bo ", "Say \"Hi\"",
    ];

    public static readonly string[] Cities =
    [
        "Oslo", "oslo", "OSLO", "Bergen", "New York", "new york", "NEW YORK", "York", "Rome", "Roma", "São Paulo", "Paris",
        "paris", "Madrid",
    ];

    public static readonly string[] Tiers = ["Gold", "gold", "GOLD", "Silver", "Bronze", "Platinum"];

    public static readonly string[] Categories = ["Toys", "toys", "Books", "Garden", "Electronics", "Food", "Music"];

    public static readonly string[] Blanks = [" ", "   "];

    public required DateOnly Today { get; init; }

    public required PropertyTable Customers { get; init; }

    public required PropertyTable Orders { get; init; }

    public static RulePropertyData Generate(ulong seed, DateOnly today)
    {
        var random = new SeededRandom(seed);
        var invariant = CultureInfo.InvariantCulture;
        string? Maybe(double emptyChance, Func<string> value) => random.Chance(emptyChance) ? null : value();
        string Text(string[] pool, double blankChance) => random.Chance(blankChance) ? random.Pick(Blanks) : random.Pick(pool);
        string Date(DateOnly date) => date.ToString("yyyy-MM-dd", invariant);

        var ids = Enumerable.Range(0, 300).Select(i => 100L + 7 * i).ToList();
        // A few customers appear twice (a second row with other attributes): a rule selects them if either row matches.
        var keys = ids.Concat([ids[3], ids[150], ids[299]]).ToList();
        var customers = keys.Select(id => new[]
        {
            id.ToString(invariant),
            Maybe(0.06, () => Text(Names, 0.06)),
            Maybe(0.08, () => Text(Cities, 0.05)),
            Maybe(0.08, () => Text(Tiers, 0.04)),
            Maybe(0.08, () => random.Between(-3, 250).ToString(invariant)),
            Maybe(0.08, () => (random.Between(-5000, 99999) / 100.0).ToString("0.00", invariant)),
            Maybe(0.07, () => Date(today.AddDays(-random.Between(-60, 1500)))),
            Maybe(0.10, () => today.AddDays(-random.Between(-10, 800)).ToDateTime(TimeOnly.MinValue)
                .AddSeconds(random.Chance(0.1) ? random.Pick([0, 86399]) : random.Next(86400))
                .ToString("yyyy-MM-dd HH:mm:ss", invariant)),
            Maybe(0.10, () => random.Chance(0.5) ? "true" : "false"),
        }).ToList();

        // Two names are whitespace other than spaces.
        customers[17][1] = "\t";
        customers[42][1] = "\u00A0";

        var orders = new List<string?[]>();
        var orderId = 50_000L;
        void AddOrder(string? customer)
        {
            var id = (++orderId).ToString(invariant);
            var date = Maybe(0.02, () => Date(today.AddDays(-random.Between(-20, 900))));
            var lines = random.Between(1, 3);
            for (var line = 0; line < lines; line++)
            {
                orders.Add(
                [
                    id,
                    customer,
                    date,
                    Maybe(0.03, () => (random.Between(-80, 6000) * 0.25).ToString("0.00", invariant)),
                    Maybe(0.05, () => random.Pick(Categories)),
                ]);
            }
        }
        foreach (var id in ids.Where(_ => random.Chance(0.8)))
        {
            var count = random.Chance(0.3) ? 1 : random.Between(2, 7);
            for (var i = 0; i < count; i++)
            {
                AddOrder(id.ToString(invariant));
            }
        }
        for (var i = 0; i < 6; i++)
        {
            AddOrder((99_900 + i).ToString(invariant));
            AddOrder(null);
        }
        // Lines of different orders interleave, as in a real log.
        var shuffled = orders.Select(o => (Key: random.NextUInt64(), Row: o)).OrderBy(p => p.Key).Select(p => p.Row).ToList();

        return new RulePropertyData
        {
            Today = today,
            Customers = new PropertyTable(CustomerColumns, customers),
            Orders = new PropertyTable(OrderColumns, shuffled),
        };
    }
}
