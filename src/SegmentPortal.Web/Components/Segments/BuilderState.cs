using SegmentPortal.Core.Access;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Web.Components.Segments;

/// <summary>
/// What every part of one rule builder shares: the tree, what the dataset offers, the latest counts and problems, the
/// node being dragged, and the values offered for category fields (loaded once per column).
/// </summary>
public sealed class BuilderState(RuleTree tree, RuleBuilderOptions options, Func<int, string, Task<IReadOnlyList<string>>> loadValues)
{
    private readonly Dictionary<(int, string), Task<IReadOnlyList<string>>> _values = [];

    public RuleTree Tree { get; } = tree;

    public RuleBuilderOptions Options { get; } = options;

    public IReadOnlyDictionary<string, long> Counts { get; set; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, string> Problems { get; set; } = new Dictionary<string, string>();

    public bool ReadOnly { get; init; }

    /// <summary>
    /// Attributes of the signed-in user a value may name (<c>{user.Region}</c>), for row rules; empty (the default) in
    /// segment rules, where values are always plain.
    /// </summary>
    public IReadOnlyList<string> UserAttributes { get; init; } = [];

    public RuleNode? Dragging { get; set; }

    /// <summary>Raised after any edit; the page recounts (debounced).</summary>
    public event Action? Changed;

    public void NotifyChanged() => Changed?.Invoke();

    public QueryField? Field(string name) => Options.Fields.FirstOrDefault(f => f.Name == name);

    public Task<IReadOnlyList<string>> ValuesAsync(int datasetId, string column)
    {
        if (!_values.TryGetValue((datasetId, column), out var values))
        {
            values = loadValues(datasetId, column);
            _values[(datasetId, column)] = values;
        }
        return values;
    }

    public void Remove(RuleNode node)
    {
        if (RuleTreeEditing.Remove(Tree.Root, node))
        {
            NotifyChanged();
        }
    }

    public void Duplicate(RuleNode node)
    {
        RuleTreeEditing.Duplicate(Tree.Root, node);
        NotifyChanged();
    }

    public void Shift(RuleNode node, int by)
    {
        if (RuleTreeEditing.Shift(Tree.Root, node, by))
        {
            NotifyChanged();
        }
    }

    /// <summary>Drops the dragged node into a group (last) or before another node.</summary>
    public bool Drop(RuleGroup? into = null, RuleNode? before = null)
    {
        var node = Dragging;
        Dragging = null;
        if (node is null)
        {
            return false;
        }
        var moved = before is not null ? RuleTreeEditing.MoveBefore(Tree.Root, node, before)
            : into is not null && RuleTreeEditing.MoveInto(Tree.Root, node, into);
        if (moved)
        {
            NotifyChanged();
        }
        return moved;
    }
}
