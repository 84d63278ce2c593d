using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Access;

/// <summary>
/// What is incomplete in a rule over a dataset, by node id, as the query compiler sees it. Supplied by the query layer
/// so that a row rule is checked exactly as it will be compiled, without this module depending on it.
/// </summary>
public interface IRowRuleCheck
{
    IReadOnlyList<(string NodeId, string Message)> Check(RuleGroup rule, QueryDataset dataset, DateOnly today);
}
