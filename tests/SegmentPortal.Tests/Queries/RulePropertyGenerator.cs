using System.Globalization;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Queries;

/// <summary>
/// Random rule trees over the generated customers: nested groups (depth at most 4) with AND/OR and random NOT, empty
/// groups; conditions on every customer column with every operator its kind offers (and now and then one it does not),
/// values taken from the data, its boundaries, values not in it, case variants and parts of texts, blanks, and values
/// that are missing or do not parse; relative dates in every unit; customer facts with and without windows; bought
/// category; membership of saved segments (and of segments that do not exist).
/// </summary>
public sealed class RuleTreeGenerator
{
    public const int MaxDepth = 4;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly RuleOperator[] AllOperators = Enum.GetValues<RuleOperator>();
    private static readonly RelativeUnit[] Units = Enum.GetValues<RelativeUnit>();
    private static readonly CustomerFact[] Facts = Enum.GetValues<CustomerFact>();
    private static readonly string[] Absent = ["zzz", "Xyz", "Qatar", "Shoes", "nobody"];
    private static readonly string[] NotNumbers = ["abc", "12abc", "NaN", "Infinity", "1.2.3", "--4", "0x10", "1 000"];
    private static readonly string[] NotDates = ["2024-02-30", "2023-02-29", "05/01/2024", "2024-1-5", "yesterday", "20240105", "2024-13-01"];
    private static readonly string[] NotCounts = ["-1", "+3", " 3", "3 ", "3.5", "x", "1,000", "99999999999"];

    /// <summary>Amounts that reach back before the year 1 in some units (and wrap around in 32 bits when multiplied by 7 or 3).</summary>
    private static readonly string[] HugeCounts = ["5000", "3000000", "613566757", "1431655766", "2147483647"];

    private readonly RulePropertyData _data;
    private readonly IReadOnlyList<int> _segmentIds;
    private readonly Dictionary<string, string[]> _texts = [];
    private readonly Dictionary<string, double[]> _numbers = [];
    private readonly Dictionary<CustomerFact, double[]> _factNumbers = [];
    private readonly string[] _dates;
    private readonly string[] _orderDates;

    public RuleTreeGenerator(RulePropertyData data, RuleEvaluator evaluator, IReadOnlyList<int> segmentIds)
    {
        _data = data;
        _segmentIds = segmentIds;
        var customers = data.Customers;
        for (var index = 0; index < customers.Columns.Count; index++)
        {
            var column = customers.Columns[index];
            _texts[column.Name] = customers.Cells.Select(c => c[index]).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();
            _numbers[column.Name] = customers.Rows.Select(r => r[index]).Select(v => v switch { long l => (double?)l, double d => d, _ => null })
                .OfType<double>().Distinct().Order().ToArray();
        }
        _dates = customers.Rows.SelectMany(r => r).Select(v => v switch
            {
                DateOnly d => d.ToString("yyyy-MM-dd", Invariant),
                DateTime t => t.ToString("yyyy-MM-dd", Invariant),
                _ => null,
            })
            .OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();

        var facts = evaluator.Customers.SelectMany(c => new[] { evaluator.FactsOf(c, null), evaluator.FactsOf(c, 90), evaluator.FactsOf(c, 365) }).ToList();
        _factNumbers[CustomerFact.OrderCount] = facts.Select(f => (double)f.OrderCount).Distinct().Order().ToArray();
        _factNumbers[CustomerFact.TotalAmount] = facts.Select(f => f.TotalAmount).Distinct().Order().ToArray();
        _factNumbers[CustomerFact.AverageAmount] = facts.Select(f => f.AverageAmount).OfType<double>().Distinct().Order().ToArray();
        _factNumbers[CustomerFact.DaysSinceLastOrder] = facts.Select(f => f.DaysSinceLastOrder).OfType<int>().Select(d => (double)d).Distinct().Order().ToArray();
        _orderDates = data.Orders.Rows.Select(r => data.Orders.Value(r, RulePropertyData.OrderDate)).OfType<DateOnly>()
            .Select(d => d.ToString("yyyy-MM-dd", Invariant)).Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>A rule tree; <paramref name="segments"/> false leaves out segment conditions (for the saved segments themselves).</summary>
    public RuleGroup Generate(SeededRandom random, bool segments = true)
    {
        var root = Group(random, 1, segments);
        if (random.Chance(0.03))
        {
            root.Children.Clear();
        }
        return root;
    }

    private RuleGroup Group(SeededRandom random, int depth, bool segments)
    {
        var group = new RuleGroup
        {
            Combinator = random.Chance(0.5) ? Combinator.And : Combinator.Or,
            Not = random.Chance(0.15),
        };
        var count = random.Chance(0.05) ? 0 : depth == 1 ? random.Pick([1, 2, 2, 3, 3, 4]) : random.Pick([1, 2, 2, 3]);
        for (var i = 0; i < count; i++)
        {
            group.Children.Add(depth < MaxDepth && random.Chance(0.35 - 0.08 * depth) ? Group(random, depth + 1, segments) : Condition(random, segments));
        }
        return group;
    }

    private RuleNode Condition(SeededRandom random, bool segments)
    {
        var roll = random.NextDouble();
        if (segments && roll < 0.08)
        {
            var known = _segmentIds.Count > 0 && random.Chance(0.85);
            return new SegmentCondition { SegmentId = known ? random.Pick(_segmentIds) : random.Pick([0, 987_654]), In = random.Chance(0.6) };
        }
        return roll < 0.38 ? Fact(random) : Field(random);
    }

    private FieldCondition Field(SeededRandom random)
    {
        var column = random.Pick(_data.Customers.Columns);
        var condition = new FieldCondition { Field = random.Chance(0.02) ? "" : column.Name };
        var offered = RuleOperators.For(column.Kind);
        condition.Operator = random.Chance(0.06) ? random.Pick(AllOperators) : random.Pick(offered);
        FillValues(random, condition, column.Kind, _numbers[column.Name], _texts[column.Name], _dates);
        return condition;
    }

    private FactCondition Fact(SeededRandom random)
    {
        var fact = random.Pick(Facts);
        var condition = new FactCondition { Fact = fact, WindowDays = Window(random) };
        var offered = RuleOperators.For(fact);
        condition.Operator = random.Chance(0.05) ? random.Pick(AllOperators) : random.Pick(offered);
        if (fact == CustomerFact.BoughtCategory)
        {
            condition.Column = random.Chance(0.05) ? random.Pick<string?>([null, ""]) : RulePropertyData.OrderCategory;
            condition.Values = List(random, RulePropertyData.Categories);
            return condition;
        }
        var kind = RuleOperators.KindOf(fact);
        FillValues(random, condition, kind, kind == FieldKind.Number ? _factNumbers[fact] : [], [], _orderDates);
        return condition;
    }

    private static int? Window(SeededRandom random)
    {
        if (random.Chance(0.45))
        {
            return null;
        }
        return random.NextDouble() switch
        {
            < 0.05 => random.Pick([0, -3]),
            < 0.06 => random.Pick([1_000_000, int.MaxValue]),
            < 0.25 => random.Between(1, 1200),
            _ => random.Pick([1, 7, 30, 31, 90, 180, 365, 366, 730, 1000]),
        };
    }

    private void FillValues(SeededRandom random, ValueCondition c, FieldKind kind, double[] numbers, string[] texts, string[] dates)
    {
        // Values an operator does not read are sometimes set anyway: they must not matter.
        if (random.Chance(0.15))
        {
            c.Unit = random.Pick(Units);
        }
        if (random.Chance(0.1))
        {
            c.Value2 = "7";
        }
        switch (c.Operator)
        {
            case RuleOperator.IsEmpty or RuleOperator.IsNotEmpty or RuleOperator.IsTrue or RuleOperator.IsFalse:
                if (random.Chance(0.2))
                {
                    c.Value = "x";
                }
                return;
            case RuleOperator.In or RuleOperator.NotIn:
                c.Values = List(random, texts.Length > 0 ? texts : Absent);
                return;
            case RuleOperator.InLast or RuleOperator.NotInLast:
                c.Unit = random.Chance(0.1) ? null : random.Pick(Units);
                c.Value = Count(random, c.Unit);
                return;
            case RuleOperator.InThis or RuleOperator.InPrevious:
                c.Unit = random.Chance(0.1) ? null : random.Pick(Units);
                return;
        }
        switch (kind)
        {
            case FieldKind.Number:
                c.Value = Number(random, numbers);
                c.Value2 = Number(random, numbers);
                break;
            case FieldKind.Date:
                c.Value = Date(random, dates);
                c.Value2 = Date(random, dates);
                break;
            default:
                c.Value = Text(random, texts.Length > 0 ? texts : Absent, c.Operator);
                break;
        }
        if (c.Operator == RuleOperator.Between && random.Chance(0.7)
            && (kind == FieldKind.Number ? RuleEvaluator.ParseNumber(c.Value) > RuleEvaluator.ParseNumber(c.Value2)
                : RuleEvaluator.ParseDate(c.Value) > RuleEvaluator.ParseDate(c.Value2)))
        {
            // Mostly in order; sometimes reversed (which matches nothing).
            (c.Value, c.Value2) = (c.Value2, c.Value);
        }
    }

    private static string Format(double number) => number.ToString("R", Invariant);

    private static string? Number(SeededRandom random, double[] pool)
    {
        var roll = random.NextDouble();
        if (pool.Length == 0 || roll < 0.08)
        {
            return random.Pick<string?>([null, "", "  ", .. NotNumbers]);
        }
        if (roll < 0.09)
        {
            return random.Pick(["1e20", "-99999999999999999999", "1e300"]);
        }
        var value = random.Pick(pool);
        return roll switch
        {
            < 0.55 => Format(value),
            < 0.70 => Format(random.Pick([pool[0], pool[^1], pool[0] - 1, pool[^1] + 1, pool[0] - 0.01, pool[^1] + 0.01])),
            < 0.78 => Format(Math.Round(pool[0] + random.NextDouble() * (pool[^1] - pool[0]), 3)),
            < 0.82 => "0",
            < 0.86 => $" {Format(value)} ",
            < 0.91 => value.ToString("#,0.###", Invariant),
            < 0.95 => value >= 0 ? "+" + Format(value) : Format(value),
            _ => value.ToString("0.###e0", Invariant),
        };
    }

    private string? Date(SeededRandom random, string[] pool)
    {
        var today = _data.Today;
        var roll = random.NextDouble();
        string Text(DateOnly date) => date.ToString("yyyy-MM-dd", Invariant);
        if (pool.Length == 0 || roll < 0.12)
        {
            return random.Pick<string?>([null, "", .. NotDates]);
        }
        var value = random.Pick(pool);
        return roll switch
        {
            < 0.55 => value,
            < 0.60 => $" {value} ",
            < 0.63 => value + " 10:30:00",
            < 0.78 => Text(random.Pick([today, today.AddDays(1), today.AddDays(-1), new DateOnly(today.Year, today.Month, 1),
                new DateOnly(today.Year, 1, 1), today.AddMonths(-3), today.AddYears(-1)])),
            _ => Text(new DateOnly(random.Between(2020, 2025), random.Between(1, 12), 1).AddDays(random.Pick([0, -1, 14]))),
        };
    }

    private static string? Count(SeededRandom random, RelativeUnit? unit)
    {
        if (random.Chance(0.1))
        {
            return random.Pick<string?>([null, "", .. NotCounts]);
        }
        if (random.Chance(0.02))
        {
            return random.Pick(HugeCounts);
        }
        var max = unit switch
        {
            RelativeUnit.Weeks => 200,
            RelativeUnit.Months => 60,
            RelativeUnit.Quarters => 20,
            RelativeUnit.Years => 10,
            _ => 1500,
        };
        return random.Chance(0.5) ? random.Pick(["0", "1", "2", "3", "6", "7", "12"]) : random.Between(0, max).ToString(Invariant);
    }

    private static string? Text(SeededRandom random, string[] pool, RuleOperator op)
    {
        var roll = random.NextDouble();
        var value = random.Pick(pool);
        if (roll < 0.12)
        {
            return random.Pick<string?>([null, "", " ", "a", "N", "o"]);
        }
        if (roll < 0.2)
        {
            return random.Pick(Absent);
        }
        if (roll < 0.35)
        {
            return random.Pick([value.ToUpperInvariant(), value.ToLowerInvariant()]);
        }
        if (roll < 0.6 || op is RuleOperator.Equals or RuleOperator.NotEquals)
        {
            return value;
        }
        // A part of a value: for contains, starts with, ends with.
        var trimmed = value.Trim();
        if (trimmed.Length < 2)
        {
            return value;
        }
        var start = op switch
        {
            RuleOperator.StartsWith => 0,
            RuleOperator.EndsWith => random.Between(1, trimmed.Length - 1),
            _ => random.Between(0, trimmed.Length - 1),
        };
        var length = op == RuleOperator.EndsWith ? trimmed.Length - start : random.Between(1, trimmed.Length - start);
        var part = trimmed.Substring(start, length);
        return random.Chance(0.3) ? part.ToUpperInvariant() : part;
    }

    private static List<string> List(SeededRandom random, string[] pool)
    {
        if (random.Chance(0.05))
        {
            return [];
        }
        var count = random.Between(1, 4);
        var values = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var value = random.Pick(pool);
            values.Add(random.NextDouble() switch
            {
                < 0.65 => value,
                < 0.80 => random.Chance(0.5) ? value.ToUpperInvariant() : value.ToLowerInvariant(),
                < 0.88 => random.Pick(Absent),
                < 0.96 => "",
                _ => " ",
            });
        }
        return values;
    }
}
