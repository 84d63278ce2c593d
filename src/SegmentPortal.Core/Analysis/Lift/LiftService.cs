using System.Globalization;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Analysis.Lift;

/// <summary>What the lift report compares per customer.</summary>
public enum LiftMetric
{
    /// <summary>Orders per customer (distinct order numbers, or purchase days without them); a mean.</summary>
    Orders,

    /// <summary>Revenue per customer (the sum of the Amount column); a mean.</summary>
    Revenue,

    /// <summary>The share of customers with two or more orders; a rate.</summary>
    RepeatRate,
}

/// <summary>A lift report to compute: a segment, the campaign's start (orders on or after it count) and, optionally, its end.</summary>
public sealed record LiftRequest(int SegmentId, DateOnly Start, LiftMetric Metric, DateOnly? End = null);

/// <summary>The lift of a campaign on a segment: treated vs holdout members, the difference, its interval and the sentence that reads it.</summary>
public sealed record LiftReport(
    string Segment, LiftRequest Request, string OrdersDataset, double HoldoutShare, LiftComparison Comparison, string Sentence);

/// <summary>
/// The lift report: after a campaign's start, compares a metric between a segment's treated members and its holdout.
/// The members are the segment's customers as its rule reads now, as the asking user sees them; their orders are read
/// from the transaction dataset the segment's customers are linked to (the one the rule builder's order facts use),
/// through the query layer with the user's data rules. A customer without orders in the period counts with 0 orders and
/// 0 revenue. Who is held out is <see cref="SegmentHoldout"/>'s, so it needs the customer key as stored.
/// </summary>
public sealed class LiftService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    SegmentService segments,
    SegmentHoldoutService holdouts)
{
    public const string NoHoldoutMessage = "This segment keeps no holdout group. Set a holdout share, run the campaign, then measure its lift.";

    public const string MaskedKeyMessage = "The lift report needs the customer key as stored, and your column rules mask it.";

    public async Task<LiftReport> RunAsync(LiftRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await currentUser.RequireAsync(Permissions.ViewData);
        if (request.End is { } end && end < request.Start)
        {
            throw new PortalException("The end date is before the campaign's start.");
        }
        var (segment, rule, _) = await segments.GetAsync(request.SegmentId, cancellationToken);
        if (segment.HoldoutShare is not > 0)
        {
            throw new PortalException(NoHoldoutMessage);
        }
        var dataset = await access.RequireReadableAsync(segment.DatasetId, cancellationToken);
        var key = await holdouts.ClearKeyAsync(segment, cancellationToken) ?? throw new PortalException(MaskedKeyMessage);
        var facts = await policy.FactSourceAsync(dataset, cancellationToken) ?? throw new PortalException(
            $"No orders you can see are linked to the customers of {dataset.Name}. The lift report reads a transaction dataset with Customer ID and " +
            "date roles (this one, or one related to it by the customer key) that you may read.");
        if (facts.Orders.Field(facts.CustomerKey) is not { Treatment: ColumnTreatment.Visible })
        {
            throw new PortalException($"The lift report needs the customer key of {facts.Orders.Name} as stored, and your column rules mask it.");
        }
        if (request.Metric == LiftMetric.Revenue && facts.Amount is null)
        {
            throw new PortalException($"{facts.Orders.Name} has no Amount column you can see, so revenue cannot be compared. Choose orders or the repeat rate.");
        }

        var members = new Dictionary<string, bool>(StringComparer.Ordinal);
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = segment.DatasetId,
            Filter = rule.Root,
            GroupBy = [new GroupBy(key, Alias: "customer")],
            Measures = [new Measure(MeasureKind.Count, "n")],
        }, (_, reader) =>
        {
            if (!reader.IsDBNull(0))
            {
                var value = reader.GetValue(0);
                members[JoinKey(value)] = SegmentHoldout.IsHeldOut(segment, SegmentHoldout.KeyText(value));
            }
        }, cancellationToken);

        var values = new Dictionary<string, (double Orders, double Revenue)>(StringComparer.Ordinal);
        var measures = new List<Measure>
        {
            facts.OrderId is { } orderId ? new Measure(MeasureKind.CountDistinct, "orders", orderId) : new Measure(MeasureKind.Days, "orders", facts.Date),
        };
        if (facts.Amount is { } amount)
        {
            measures.Add(new Measure(MeasureKind.Sum, "revenue", amount));
        }
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = facts.Orders.Id,
            Filter = Period(facts, request),
            GroupBy = [new GroupBy(facts.CustomerKey, Alias: "customer")],
            Measures = measures,
        }, (_, reader) =>
        {
            var customer = JoinKey(reader.GetValue(0));
            if (members.ContainsKey(customer))
            {
                values[customer] = (QueryValue.ToDouble(reader.GetValue(1)) ?? 0, facts.Amount is null ? 0 : QueryValue.ToDouble(reader.GetValue(2)) ?? 0);
            }
        }, cancellationToken);

        var treated = new List<double>();
        var holdout = new List<double>();
        foreach (var (customer, heldOut) in members)
        {
            var (orders, revenue) = values.GetValueOrDefault(customer);
            var value = request.Metric switch
            {
                LiftMetric.Revenue => revenue,
                LiftMetric.RepeatRate => orders >= 2 ? 1 : 0,
                _ => orders,
            };
            (heldOut ? holdout : treated).Add(value);
        }
        if (holdout.Count == 0 || treated.Count == 0)
        {
            throw new PortalException(holdout.Count == 0
                ? "None of the members you can see is in the holdout, so there is nothing to compare against."
                : "Every member you can see is in the holdout, so there is no treated group to compare.");
        }
        var comparison = request.Metric == LiftMetric.RepeatRate
            ? LiftStatistics.Proportions((long)treated.Sum(), treated.Count, (long)holdout.Sum(), holdout.Count)
            : LiftStatistics.Welch(treated, holdout);
        return new LiftReport(segment.Name, request, facts.Orders.Name, segment.HoldoutShare.Value, comparison, Sentence(request.Metric, comparison));
    }

    /// <summary>The comparison in words, with its interval and whether chance explains it.</summary>
    public static string Sentence(LiftMetric metric, LiftComparison c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var up = c.Difference >= 0;
        var verdict = c.Significant ? "the difference is unlikely to be chance." : "the difference could be chance.";
        return metric switch
        {
            LiftMetric.Revenue =>
                $"Treated customers spent {F(Math.Abs(c.Difference), "N2")} {(up ? "more" : "less")} each than the holdout (95% CI {F(c.Low, "N2")} to {F(c.High, "N2")}); {verdict}",
            LiftMetric.RepeatRate =>
                $"Treated customers' repeat rate was {F(Math.Abs(c.Difference) * 100, "0.0")} points {(up ? "higher" : "lower")} than the holdout's " +
                $"({F(c.Treated.Mean * 100, "0.0")}% vs {F(c.Holdout.Mean * 100, "0.0")}%; 95% CI {F(c.Low * 100, "0.0")} to {F(c.High * 100, "0.0")} points); {verdict}",
            _ =>
                $"Treated customers ordered {F(Math.Abs(c.Difference), "0.00")} {(up ? "more" : "fewer")} orders each than the holdout (95% CI {F(c.Low, "0.00")} to {F(c.High, "0.00")}); {verdict}",
        };
    }

    /// <summary>A number as text (invariant), without the minus of a value that rounds to zero ("-0.0").</summary>
    private static string F(double value, string format)
    {
        var text = value.ToString(format, CultureInfo.InvariantCulture);
        return text.StartsWith('-') && text.Skip(1).All(ch => ch is '0' or '.' or ',') ? text[1..] : text;
    }

    /// <summary>Orders with a customer, dated on or after the start (and on or before the end, when given).</summary>
    private static RuleGroup Period(FactSource facts, LiftRequest request)
    {
        var filter = new RuleGroup
        {
            Children =
            [
                new FieldCondition { Field = facts.CustomerKey, Operator = RuleOperator.IsNotEmpty },
                new FieldCondition { Field = facts.Date, Operator = RuleOperator.After, Value = Day(request.Start.AddDays(-1)) },
            ],
        };
        if (request.End is { } end)
        {
            filter.Children.Add(new FieldCondition { Field = facts.Date, Operator = RuleOperator.Before, Value = Day(end.AddDays(1)) });
        }
        return filter;
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A key for matching members to their orders across two datasets: whole numbers without decimals (17850 = 17850.0).</summary>
    private static string JoinKey(object? value) => Survival.SurvivalService.KeyText(value);
}
