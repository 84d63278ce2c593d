using SegmentPortal.Core.Access;

namespace SegmentPortal.Core.Queries;

/// <summary>What a compile needs besides the spec: the dataset, where facts come from, today, saved segments, row rules.</summary>
public sealed record CompileContext
{
    public required QueryDataset Dataset { get; init; }

    public FactSource? Facts { get; init; }

    /// <summary>"Today" for relative dates; from the clock, fixed in tests.</summary>
    public required DateOnly Today { get; init; }

    /// <summary>Every segment the rule refers to, directly or through other segments.</summary>
    public IReadOnlyDictionary<int, SegmentReference> Segments { get; init; } = new Dictionary<int, SegmentReference>();

    public ISqlDialect Dialect { get; init; } = DuckDbDialect.Instance;

    /// <summary>Every row of the dataset has a customer key and no two share one (checked on the data): customers can be counted and listed as rows.</summary>
    public bool CustomerKeyUnique { get; init; }
}

/// <summary>A condition that cannot run yet (incomplete or wrong value); the builder marks it and the query skips it.</summary>
public sealed record RuleProblem(string NodeId, string Message);
