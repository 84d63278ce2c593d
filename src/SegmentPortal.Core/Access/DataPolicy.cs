using System.Text.RegularExpressions;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Access;

/// <summary>
/// The signed-in user as the data rules see them, read from the metadata store for every query (so a changed role or
/// attribute applies to the next query): id, e-mail, name, roles and attributes.
/// </summary>
public sealed record AccessSubject(string UserId, string? Email, string? Name, IReadOnlySet<string> Roles, IReadOnlyDictionary<string, string> Attributes)
{
    public bool IsAdmin => Roles.Contains(Identity.Roles.Admin);

    /// <summary>An attribute by name (case-insensitive), with <c>Email</c> and <c>Name</c> built in; null when the user has none.</summary>
    public string? Attribute(string name) => name.ToUpperInvariant() switch
    {
        "EMAIL" => Email,
        "NAME" => Name,
        _ => Attributes.FirstOrDefault(a => string.Equals(a.Key, name, StringComparison.OrdinalIgnoreCase)).Value,
    };
}

/// <summary>A dataset's row rules and column rules, as stored.</summary>
public sealed record DatasetRules(IReadOnlyList<RowRule> RowRules, IReadOnlyList<ColumnRule> ColumnRules)
{
    public static DatasetRules None { get; } = new([], []);
}

/// <summary>
/// The data rules as pure functions: which rows and columns of a dataset a subject may see. <see cref="Authorizer"/>
/// applies them to every dataset a query reads.
/// </summary>
public static partial class DataPolicy
{
    [GeneratedRegex(@"\{user\.([A-Za-z][A-Za-z0-9_ ]{0,63})\}")]
    private static partial Regex UserToken();

    /// <summary>The attribute a value refers to (<c>{user.Region}</c> → Region), or null when it is a plain value.</summary>
    public static string? AttributeOf(string? value) =>
        value is not null && UserToken().Match(value.Trim()) is { Success: true } m && m.Length == value.Trim().Length ? m.Groups[1].Value : null;

    public static string Token(string attribute) => $"{{user.{attribute}}}";

    /// <summary>
    /// The dataset as the subject may see it: hidden columns gone, masked and hashed ones as text, and the rows of every
    /// row rule for them or one of their roles (OR). A dataset with row rules and none for them shows no rows. Admins
    /// see everything when <paramref name="adminsExempt"/> (a portal setting), and are ruled like everyone else otherwise.
    /// </summary>
    public static QueryDataset Restrict(QueryDataset dataset, DatasetRules rules, AccessSubject subject, bool adminsExempt, string hashKey)
    {
        if (subject.IsAdmin && adminsExempt)
        {
            return dataset;
        }
        var stored = dataset.OwnFields.ToList();
        var hidden = new List<string>();
        var fields = new List<QueryField>();
        foreach (var field in dataset.Fields)
        {
            var treatment = field.Source is null ? TreatmentFor(field, rules.ColumnRules, subject) : ColumnTreatment.Visible;
            switch (treatment)
            {
                case ColumnTreatment.Hidden:
                    hidden.Add(field.Name);
                    break;
                case ColumnTreatment.Masked or ColumnTreatment.Hashed:
                    fields.Add(field with { Type = ColumnType.Text, Treatment = treatment });
                    break;
                default:
                    fields.Add(field);
                    break;
            }
        }
        var mine = rules.RowRules.Where(r => AppliesTo(r, subject)).Select(r => RuleTree.FromJson(r.RuleJson).Root).ToList();
        RuleGroup? filter = null;
        // A rule without conditions is "all rows".
        if (mine.Count > 0 && mine.All(r => r.Descendants().Any(d => d is not RuleGroup)))
        {
            var columns = stored.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
            filter = new RuleGroup { Combinator = Combinator.Or, Children = mine.Select(r => (RuleNode)Resolve(r, subject, columns)).ToList() };
        }
        return dataset with
        {
            Fields = fields,
            StoredFields = stored,
            HiddenColumns = hidden,
            RowFilter = filter,
            NoRows = rules.RowRules.Count > 0 && mine.Count == 0,
            HashKey = hashKey,
        };
    }

    public static bool AppliesTo(RowRule rule, AccessSubject subject) =>
        (rule.UserId is not null && rule.UserId == subject.UserId) || (rule.Role is not null && subject.Roles.Contains(rule.Role));

    /// <summary>How a column known only by its name looks to the subject (see the <see cref="QueryField"/> overload).</summary>
    public static ColumnTreatment TreatmentFor(string column, IReadOnlyList<ColumnRule> rules, AccessSubject subject) =>
        TreatmentFor(new QueryField(column, ColumnType.Text, FieldRole.None), rules, subject);

    /// <summary>
    /// How a column looks to the subject: with several roles the most open treatment wins; a role without a rule sees it
    /// as is. Rules follow the column by its id, so a rename keeps them. A rule that cannot be resolved to the column
    /// (it holds another column's id, one the dataset no longer has, yet names this column) hides it: fail closed.
    /// </summary>
    public static ColumnTreatment TreatmentFor(QueryField field, IReadOnlyList<ColumnRule> rules, AccessSubject subject)
    {
        if (subject.Roles.Count == 0)
        {
            return ColumnTreatment.Hidden;
        }
        return subject.Roles.Select(role => rules.Where(r => r.Role == role && Names(r, field)).Select(r => Treatment(r, field))
                .DefaultIfEmpty(ColumnTreatment.Visible).MaxBy(Openness))
            .MinBy(Openness);
    }

    /// <summary>Whether a column rule concerns a field: its column by id, or a column of the name it holds.</summary>
    public static bool Names(ColumnRule rule, QueryField field) =>
        (rule.ColumnId is { } id && id == field.ColumnId) || rule.Column == field.Name;

    /// <summary>The rule's treatment when it resolves to the field (same id, or a rule held by name only); Hidden when it does not.</summary>
    private static ColumnTreatment Treatment(ColumnRule rule, QueryField field) =>
        rule.ColumnId is null || rule.ColumnId == field.ColumnId ? rule.Treatment : ColumnTreatment.Hidden;

    /// <summary>
    /// A value as a masked column shows it, like the warehouse's mask: <c>j***@example.com</c>, <c>138****5678</c>, and
    /// all stars for short values.
    /// </summary>
    public static string? Mask(string? value)
    {
        if (value is null)
        {
            return null;
        }
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 ? value[..1] + "***" + value[at..]
            : value.Length > 7 ? value[..3] + new string('*', value.Length - 7) + value[^4..]
            : new string('*', value.Length);
    }

    /// <summary>Lower is more open: visible, masked, hashed, hidden.</summary>
    private static int Openness(ColumnTreatment treatment) => treatment switch
    {
        ColumnTreatment.Visible => 0,
        ColumnTreatment.Masked => 1,
        ColumnTreatment.Hashed => 2,
        _ => 3,
    };

    /// <summary>
    /// A copy of a row rule with the subject's attributes in place of <c>{user.X}</c> values. A condition naming an
    /// attribute the user does not have matches no row (fail closed).
    /// </summary>
    /// <remarks>
    /// With <paramref name="columns"/> (the dataset's stored columns), a condition on a column the dataset no longer has
    /// (left out, or renamed by a path that did not carry the rule along) matches no row either, rather than failing the
    /// query or opening rows.
    /// </remarks>
    public static RuleGroup Resolve(RuleGroup rule, AccessSubject subject, IReadOnlySet<string>? columns = null)
    {
        var copy = new RuleGroup { Id = rule.Id, Combinator = rule.Combinator, Not = rule.Not };
        foreach (var child in rule.Children)
        {
            copy.Children.Add(child switch
            {
                RuleGroup group => Resolve(group, subject, columns),
                FieldCondition condition when columns is not null && !columns.Contains(condition.Field) => Never(condition.Id),
                FieldCondition condition => ResolveCondition(condition, subject),
                _ => throw new PortalException("A row rule can only compare the dataset's own columns."),
            });
        }
        return copy;
    }

    private static RuleNode ResolveCondition(FieldCondition condition, AccessSubject subject)
    {
        var missing = false;
        string? One(string? value)
        {
            if (AttributeOf(value) is not { } name)
            {
                return value;
            }
            var resolved = subject.Attribute(name);
            missing |= string.IsNullOrEmpty(resolved);
            return resolved;
        }
        var values = new List<string>();
        foreach (var value in condition.Values)
        {
            if (AttributeOf(value) is { } name)
            {
                var resolved = subject.Attribute(name);
                missing |= string.IsNullOrEmpty(resolved);
                values.AddRange((resolved ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }
            else
            {
                values.Add(value);
            }
        }
        var copy = new FieldCondition
        {
            Id = condition.Id,
            Field = condition.Field,
            Operator = condition.Operator,
            Value = One(condition.Value),
            Value2 = One(condition.Value2),
            Values = values,
            Unit = condition.Unit,
        };
        return missing ? Never(condition.Id) : copy;
    }

    /// <summary>Never true: an empty NOT group compiles to false.</summary>
    private static RuleGroup Never(string id) => new() { Id = id, Not = true };

    /// <summary>
    /// Why a row rule cannot be saved for a dataset (null when it can): only the dataset's own columns. A rule without
    /// conditions gives its role or user every row.
    /// </summary>
    public static string? Problem(RuleGroup rule, IReadOnlyCollection<string> columns)
    {
        foreach (var node in rule.Descendants())
        {
            switch (node)
            {
                case FactCondition or SegmentCondition:
                    return "A row rule can only compare the dataset's own columns (no order facts or segments).";
                case FieldCondition { Field: var field } when !columns.Contains(field):
                    return string.IsNullOrWhiteSpace(field) ? "Every condition of a row rule needs a field." : $"The dataset has no column \"{field}\".";
            }
        }
        return null;
    }
}
