using SegmentPortal.Core.Access;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>Checks a row rule with the compiler's own checks (<see cref="QueryCompiler.Check"/>).</summary>
internal sealed class RowRuleCheck : IRowRuleCheck
{
    public IReadOnlyList<(string NodeId, string Message)> Check(RuleGroup rule, QueryDataset dataset, DateOnly today) =>
        QueryCompiler.Check(rule, new CompileContext { Dataset = dataset, Today = today }).Select(p => (p.NodeId, p.Message)).ToList();
}
