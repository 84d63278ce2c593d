using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// What a user does with one cluster of a completed run: names it, saves it as a segment ("cluster is 2"), or turns
/// the rule that describes it into a segment they can edit.
/// </summary>
public sealed class ClusterSegments(
    ICurrentUser currentUser,
    ClusteringService runs,
    CustomerAttributeStore attributes,
    SegmentService segments,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    /// <summary>Names a cluster (the name field changes; segments use the cluster number, so they keep working).</summary>
    public async Task RenameClusterAsync(int runId, int cluster, string name, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await runs.GetAsync(runId, cancellationToken);
        if (!view.CanChange)
        {
            throw new PermissionDeniedException("Only the owner of the clustering run, the owner of its dataset or an Admin can rename its clusters.");
        }
        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > 80)
        {
            throw new PortalException("A cluster name needs 1 to 80 characters.");
        }
        if (cluster < 0 || cluster >= view.Names.Count)
        {
            throw new PortalException("That cluster does not exist.");
        }
        Common.UniqueNames.Require(trimmed, view.Names.Where((_, i) => i != cluster), "cluster", who: null);
        var names = view.Names.ToArray();
        names[cluster] = trimmed;
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.ClusteringRuns.FirstAsync(r => r.Id == runId, cancellationToken);
        var stored = JsonSerializer.Deserialize<StoredResult>(run.ResultJson!, ClusteringService.Json)!;
        run.ResultJson = JsonSerializer.Serialize(stored with { Names = names }, ClusteringService.Json);
        await db.SaveChangesAsync(cancellationToken);
        await attributes.UpdateValueAsync(AttributeSetKind.Clustering, runId, ClusteringService.NameColumn, trimmed, ClusteringService.NumberColumn, cluster + 1, cancellationToken);
    }

    /// <summary>Saves one cluster as a segment ("cluster is 2" on the run's field), named after the cluster.</summary>
    public async Task<int> SaveClusterAsSegmentAsync(int runId, int cluster, string? name = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await runs.GetAsync(runId, cancellationToken);
        if (view.Summary.Status != ClusteringRunStatus.Completed || cluster < 0 || cluster >= view.Names.Count)
        {
            throw new PortalException("That cluster does not exist.");
        }
        var rule = new RuleGroup
        {
            Children = [new FieldCondition { Field = view.ClusterField, Operator = RuleOperator.Equals, Value = (cluster + 1).ToString(CultureInfo.InvariantCulture) }],
        };
        if (view.Request.SegmentId is { } within)
        {
            rule.Children.Add(new SegmentCondition { SegmentId = within });
        }
        return await segments.CreateAsync(new SegmentDraft(string.IsNullOrWhiteSpace(name) ? $"{view.Summary.Name}: {view.Names[cluster]}" : name.Trim(),
            view.Request.DatasetId, new RuleTree { Root = rule }, $"Cluster {cluster + 1} of the clustering run “{view.Summary.Name}”.", ["Cluster"]), cancellationToken);
    }

    /// <summary>
    /// The cluster's best rule (from the explanation's decision tree) as a rule tree over the features: field
    /// conditions for customer fields, order facts for order measures. A share of spend has no rule equivalent and is
    /// left out (said in the returned note).
    /// </summary>
    public async Task<(RuleTree Rule, string? Note)> RuleForClusterAsync(int runId, int cluster, CancellationToken cancellationToken = default)
    {
        var view = await runs.GetAsync(runId, cancellationToken);
        var profile = view.Explanation?.Clusters.FirstOrDefault(c => c.Cluster == cluster) ?? throw new PortalException("That cluster does not exist.");
        var best = profile.Rules.FirstOrDefault() ?? throw new PortalException("No rule describes this cluster well enough.");
        var root = new RuleGroup();
        var skipped = new List<string>();
        foreach (var condition in best.Conditions)
        {
            var feature = view.Request.Features[condition.FeatureIndex];
            var greater = condition.Comparison == ThresholdComparison.Greater;
            var value = condition.Threshold.ToString("0.####", CultureInfo.InvariantCulture);
            RuleNode? node = feature.Source == FeatureSource.Field
                ? new FieldCondition { Field = feature.Field!, Operator = greater ? RuleOperator.Greater : RuleOperator.LessOrEqual, Value = value }
                : feature.Measure switch
                {
                    CustomerMeasure.OrderCount => Fact(CustomerFact.OrderCount),
                    CustomerMeasure.TotalAmount => Fact(CustomerFact.TotalAmount),
                    CustomerMeasure.AverageAmount => Fact(CustomerFact.AverageAmount),
                    CustomerMeasure.DaysSinceLastOrder => Fact(CustomerFact.DaysSinceLastOrder),
                    CustomerMeasure.DaysSinceFirstOrder => new FactCondition
                    {
                        // More than N days since the first order = first order before today − N days.
                        Fact = CustomerFact.FirstOrderDate,
                        Operator = greater ? RuleOperator.Before : RuleOperator.After,
                        Value = DateOnly.FromDateTime(clock.GetLocalNow().DateTime).AddDays(-(int)Math.Floor(condition.Threshold) - (greater ? 0 : 1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    },
                    _ => null,
                };
            if (node is null)
            {
                skipped.Add(feature.Label);
            }
            else
            {
                root.Children.Add(node);
            }

            FactCondition Fact(CustomerFact fact) => new() { Fact = fact, Operator = greater ? RuleOperator.Greater : RuleOperator.LessOrEqual, Value = value };
        }
        return (new RuleTree { Root = root }, skipped.Count == 0 ? null : $"Left out (no rule equivalent): {string.Join(", ", skipped)}.");
    }

    /// <summary>Saves the cluster's rule as a new segment the user can open and edit.</summary>
    public async Task<int> SaveRuleAsSegmentAsync(int runId, int cluster, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await runs.GetAsync(runId, cancellationToken);
        var (rule, note) = await RuleForClusterAsync(runId, cluster, cancellationToken);
        return await segments.CreateAsync(new SegmentDraft($"{view.Summary.Name}: {view.Names[cluster]} (rule)", view.Request.DatasetId, rule,
            $"Rule learnt to describe cluster {cluster + 1} of “{view.Summary.Name}”. {note}".Trim(), ["Cluster rule"]), cancellationToken);
    }
}
