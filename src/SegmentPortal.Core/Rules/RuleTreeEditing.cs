namespace SegmentPortal.Core.Rules;

/// <summary>The edits the rule builder makes: add, remove, duplicate and move nodes (by drag or by keyboard).</summary>
public static class RuleTreeEditing
{
    /// <summary>The group that holds <paramref name="node"/>, or null for the root or a node not in the tree.</summary>
    public static RuleGroup? ParentOf(RuleGroup root, RuleNode node)
    {
        if (root.Children.Contains(node))
        {
            return root;
        }
        return root.Children.OfType<RuleGroup>().Select(g => ParentOf(g, node)).FirstOrDefault(p => p is not null);
    }

    public static bool Remove(RuleGroup root, RuleNode node) => ParentOf(root, node)?.Children.Remove(node) ?? false;

    /// <summary>Inserts a copy of the node right after it and returns the copy.</summary>
    public static RuleNode Duplicate(RuleGroup root, RuleNode node)
    {
        var parent = ParentOf(root, node) ?? throw new ArgumentException("The node is not in this tree.", nameof(node));
        var copy = node.Clone();
        parent.Children.Insert(parent.Children.IndexOf(node) + 1, copy);
        return copy;
    }

    /// <summary>
    /// Moves <paramref name="node"/> into <paramref name="group"/> (at <paramref name="index"/>, or last). Refused — returns
    /// false — when it would put a group inside itself.
    /// </summary>
    public static bool MoveInto(RuleGroup root, RuleNode node, RuleGroup group, int? index = null)
    {
        if (node == group || (node is RuleGroup moving && (moving.Descendants().Contains(group))))
        {
            return false;
        }
        var parent = ParentOf(root, node);
        if (parent is null)
        {
            return false;
        }
        var at = index ?? group.Children.Count;
        if (parent == group && parent.Children.IndexOf(node) < at)
        {
            at--;
        }
        parent.Children.Remove(node);
        group.Children.Insert(Math.Clamp(at, 0, group.Children.Count), node);
        return true;
    }

    /// <summary>Moves a node to just before <paramref name="target"/>, wherever that is in the tree.</summary>
    public static bool MoveBefore(RuleGroup root, RuleNode node, RuleNode target)
    {
        var targetParent = ParentOf(root, target);
        return node != target && targetParent is not null && MoveInto(root, node, targetParent, targetParent.Children.IndexOf(target));
    }

    /// <summary>Moves a node one place up or down among its siblings (keyboard alternative to dragging).</summary>
    public static bool Shift(RuleGroup root, RuleNode node, int by)
    {
        var parent = ParentOf(root, node);
        if (parent is null)
        {
            return false;
        }
        var index = parent.Children.IndexOf(node);
        var target = index + by;
        if (target < 0 || target >= parent.Children.Count)
        {
            return false;
        }
        parent.Children.RemoveAt(index);
        parent.Children.Insert(target, node);
        return true;
    }
}
