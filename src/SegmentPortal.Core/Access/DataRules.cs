namespace SegmentPortal.Core.Access;

/// <summary>
/// Which rows of a dataset a role or a user may see: a rule tree (the rule builder's JSON) over the dataset's columns,
/// whose values may name the signed-in user's attributes (<c>{user.Region}</c>, <c>{user.Email}</c>). A dataset with
/// any row rule is restricted: a user sees the rows of every rule for them or one of their roles (combined with OR),
/// and none when no rule is for them.
/// </summary>
public class RowRule
{
    public int Id { get; set; }

    public int DatasetId { get; set; }

    public string? Role { get; set; }

    public string? UserId { get; set; }

    public required string RuleJson { get; set; }

    public string? Description { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>How a column looks to a role: as is, not there at all, partly hidden, or replaced by a keyed hash.</summary>
public enum ColumnTreatment
{
    Visible = 0,

    /// <summary>The column does not exist for them: not in pickers, grids, exports, filter values, features or rules.</summary>
    Hidden = 1,

    /// <summary>Partly shown: <c>j***@example.com</c>, <c>138****5678</c>.</summary>
    Masked = 2,

    /// <summary>A keyed hash of the value: equal values stay equal, so counts and joins still work.</summary>
    Hashed = 3,
}

/// <summary>
/// A column's treatment for one role on one dataset, held by the column's stable id so that it follows the column
/// through renames. With several roles, the most open treatment wins.
/// </summary>
public class ColumnRule
{
    public int Id { get; set; }

    public int DatasetId { get; set; }

    /// <summary>
    /// The column (<see cref="Datasets.DatasetColumn.Id"/>). Null only for a rule stored with a name alone: it is
    /// resolved by that name when read, and stored with the id at the dataset's next column change.
    /// </summary>
    public int? ColumnId { get; set; }

    /// <summary>The column's name as of the rule's last save or the column's last rename (for lists and the audit log).</summary>
    public required string Column { get; set; }

    public required string Role { get; set; }

    public ColumnTreatment Treatment { get; set; }
}

/// <summary>A named value about a user (Region, SalesRep…) that row rules can refer to.</summary>
public class UserAttribute
{
    public int Id { get; set; }

    public required string UserId { get; set; }

    public required string Name { get; set; }

    public required string Value { get; set; }
}

/// <summary>A portal-wide setting Admins change in the app (stored, so every node and session sees the same value).</summary>
public class PortalSetting
{
    public required string Key { get; set; }

    public required string Value { get; set; }
}
