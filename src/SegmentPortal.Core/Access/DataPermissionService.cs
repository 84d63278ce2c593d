using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Access;

/// <summary>A row rule as the permissions page lists it: for whom, and what it keeps in plain language.</summary>
public sealed record RowRuleView(int Id, string? Role, string? UserId, string? UserEmail, string Summary, RuleTree Tree, DateTimeOffset UpdatedAt)
{
    public string AppliesTo => Role is not null ? $"role {Role}" : $"user {UserEmail ?? UserId}";
}

/// <summary>One dataset's data permissions: its stored columns, row rules and column rules.</summary>
public sealed record DatasetPermissions(
    int DatasetId, string DatasetName, IReadOnlyList<QueryField> Columns, IReadOnlyList<RowRuleView> RowRules, IReadOnlyList<ColumnRule> ColumnRules)
{
    /// <summary>How a column looks to a role (Visible when no rule says otherwise), as the data rules apply it.</summary>
    public ColumnTreatment TreatmentOf(string column, string role) =>
        DataPolicy.TreatmentFor(Columns.FirstOrDefault(c => c.Name == column) ?? new QueryField(column, ColumnType.Text, FieldRole.None),
            ColumnRules, new AccessSubject("", null, null, new HashSet<string> { role }, new Dictionary<string, string>()));
}

/// <summary>A user a rule or an attribute can be for.</summary>
public sealed record PermissionUser(string Id, string Email, string DisplayName);

/// <summary>
/// Admin work on data permissions: row rules per dataset (for a role or a user), column rules per dataset and role,
/// user attributes and the "Admins see all data" setting. Every method checks the caller may manage users (Admins);
/// every change is written to the audit log. Nothing here is cached: <see cref="Authorizer"/> reads the rules
/// again for every query, so a change applies to the next query of every session.
/// </summary>
public sealed partial class DataPermissionService(
    ICurrentUser currentUser, IPortalDbFactory dbFactory, AuditLog audit, PortalSettings settings, IRowRuleCheck ruleCheck, TimeProvider clock)
{
    /// <summary>Attributes every user has without storing them; row rules may use them but nobody can edit them.</summary>
    public static readonly IReadOnlyList<string> BuiltInAttributes = ["Email", "Name"];

    /// <summary>The roles rules are written for.</summary>
    public static IReadOnlyList<string> RuleRoles => Identity.Roles.All;

    [GeneratedRegex(@"^[A-Za-z0-9_ ]+$")]
    private static partial Regex AttributeName();

    public async Task<IReadOnlyList<Dataset>> DatasetsAsync(CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready).OrderBy(d => d.Name).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PermissionUser>> UsersAsync(CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Users.AsNoTracking().OrderBy(u => u.Email)
            .Select(u => new PermissionUser(u.Id, u.Email ?? u.UserName ?? u.Id, u.DisplayName)).ToListAsync(cancellationToken);
    }

    /// <summary>How a rule without conditions reads: it gives its role or user every row.</summary>
    public const string AllRows = "All rows";

    public async Task<DatasetPermissions> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await LoadDatasetAsync(db, datasetId, cancellationToken);
        var columns = QueryDataset.From(dataset).OwnFields.ToList();
        var rows = await db.RowRules.AsNoTracking().Where(r => r.DatasetId == datasetId).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var userIds = rows.Select(r => r.UserId).OfType<string>().Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var summary = new RuleSummary(_ => null, fieldType: name => columns.FirstOrDefault(c => c.Name == name)?.Type);
        var views = rows.Select(r =>
        {
            var tree = RuleTree.FromJson(r.RuleJson);
            // A rule without conditions gives its role or user every row.
            var text = tree.Root.Descendants().Any(d => d is not RuleGroup) ? Rows(summary.Describe(tree)) : AllRows;
            return new RowRuleView(r.Id, r.Role, r.UserId, r.UserId is null ? null : emails.GetValueOrDefault(r.UserId), text, tree, r.UpdatedAt);
        }).ToList();
        var columnRules = await db.ColumnRules.AsNoTracking().Where(r => r.DatasetId == datasetId).ToListAsync(cancellationToken);
        return new DatasetPermissions(dataset.Id, dataset.Name, columns, views, columnRules);
    }

    /// <summary>
    /// Adds (<paramref name="ruleId"/> null) or replaces a row rule for exactly one of a role or a user. The rule may only
    /// compare the dataset's own columns, every condition must be complete, and values may be <c>{user.X}</c> tokens.
    /// </summary>
    public async Task<int> SaveRowRuleAsync(int datasetId, int? ruleId, string? role, string? userId, RuleGroup rule, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        if ((role is null) == (userId is null))
        {
            throw new PortalException("Choose the role or the user the rule is for.");
        }
        if (role is not null && !Identity.Roles.IsKnown(role))
        {
            throw new PortalException($"Unknown role: {role}.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await LoadDatasetAsync(db, datasetId, cancellationToken);
        string? email = null;
        if (userId is not null)
        {
            email = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken)
                ?? throw new PortalException("That user no longer exists.");
        }
        var described = QueryDataset.From(dataset);
        if (Validate(rule, described, DateOnly.FromDateTime(clock.GetLocalNow().DateTime)) is { } problem)
        {
            throw new PortalException($"The row rule cannot be saved: {problem}");
        }
        var tree = new RuleTree { Root = rule };
        RowRule entity;
        if (ruleId is { } id)
        {
            entity = await db.RowRules.SingleOrDefaultAsync(r => r.Id == id && r.DatasetId == datasetId, cancellationToken)
                ?? throw new PortalException("That row rule no longer exists.");
            entity.RuleJson = tree.ToJson();
        }
        else
        {
            entity = new RowRule { DatasetId = datasetId, RuleJson = tree.ToJson() };
            db.RowRules.Add(entity);
        }
        entity.Role = role;
        entity.UserId = userId;
        entity.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var summary = new RuleSummary(_ => null).Describe(rule);
        await audit.RecordAsync(AuditActions.PermissionChanged, DatasetSubject(dataset),
            $"Row rule for {(role is not null ? $"role {role}" : $"user {email}")} on {dataset.Name}{(ruleId is null ? " added" : " changed")}: {Rows(summary)}",
            cancellationToken: cancellationToken);
        return entity.Id;
    }

    public async Task DeleteRowRuleAsync(int datasetId, int ruleId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await LoadDatasetAsync(db, datasetId, cancellationToken);
        var rule = await db.RowRules.SingleOrDefaultAsync(r => r.Id == ruleId && r.DatasetId == datasetId, cancellationToken)
            ?? throw new PortalException("That row rule no longer exists.");
        var whom = rule.Role is not null ? $"role {rule.Role}"
            : $"user {await db.Users.Where(u => u.Id == rule.UserId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken) ?? rule.UserId}";
        var summary = new RuleSummary(_ => null).Describe(RuleTree.FromJson(rule.RuleJson));
        db.RowRules.Remove(rule);
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.PermissionChanged, DatasetSubject(dataset),
            $"Row rule for {whom} on {dataset.Name} removed: {Rows(summary)}", cancellationToken: cancellationToken);
    }

    /// <summary>Sets how a column looks to a role; Visible removes the rule. The rule holds the column's id, so it follows renames.</summary>
    public async Task SetColumnTreatmentAsync(int datasetId, string column, string role, ColumnTreatment treatment, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        if (!Identity.Roles.IsKnown(role))
        {
            throw new PortalException($"Unknown role: {role}.");
        }
        if (!Enum.IsDefined(treatment))
        {
            throw new PortalException("Choose Visible, Hidden, Masked or Hashed.");
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await LoadDatasetAsync(db, datasetId, cancellationToken);
        var target = dataset.Columns.FirstOrDefault(c => c.Name == column && !c.IsExcluded)
            ?? throw new PortalException($"The dataset {dataset.Name} has no column \"{column}\".");
        // The rules for this role that concern the column: by its id, or held by its name (stored before ids, or stale).
        var existing = await db.ColumnRules.Where(r => r.DatasetId == datasetId && r.Role == role && (r.ColumnId == target.Id || r.Column == column))
            .ToListAsync(cancellationToken);
        var kept = existing.FirstOrDefault(r => r.ColumnId == target.Id);
        if (existing.Count == (kept is null ? 0 : 1) && (kept?.Treatment ?? ColumnTreatment.Visible) == treatment)
        {
            return;
        }
        db.ColumnRules.RemoveRange(existing.Where(r => r != kept || treatment == ColumnTreatment.Visible));
        if (treatment != ColumnTreatment.Visible)
        {
            if (kept is null)
            {
                db.ColumnRules.Add(new ColumnRule { DatasetId = datasetId, ColumnId = target.Id, Column = column, Role = role, Treatment = treatment });
            }
            else
            {
                kept.Column = column;
                kept.Treatment = treatment;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.PermissionChanged, DatasetSubject(dataset),
            $"Column {column} of {dataset.Name} for role {role}: {treatment}", cancellationToken: cancellationToken);
    }

    /// <summary>The attribute names row rules can refer to: the built-in ones and every name some user has.</summary>
    public async Task<IReadOnlyList<string>> AttributeNamesAsync(CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var names = await db.UserAttributes.AsNoTracking().Select(a => a.Name).Distinct().ToListAsync(cancellationToken);
        return [.. BuiltInAttributes, .. names.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
    }

    public async Task<IReadOnlyDictionary<string, string>> GetAttributesAsync(string userId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var attributes = await db.UserAttributes.AsNoTracking().Where(a => a.UserId == userId).OrderBy(a => a.Name).ToListAsync(cancellationToken);
        return attributes.ToDictionary(a => a.Name, a => a.Value, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Replaces a user's attributes with these (names: letters, digits, underscore, space; Email and Name are built in).</summary>
    public async Task SetAttributesAsync(string userId, IReadOnlyDictionary<string, string> attributes, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        var wanted = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (rawName, rawValue) in attributes)
        {
            var name = (rawName ?? "").Trim();
            var value = (rawValue ?? "").Trim();
            if (name.Length == 0)
            {
                throw new PortalException("Every attribute needs a name.");
            }
            if (name.Length > 64 || !AttributeName().IsMatch(name) || !char.IsLetter(name[0]))
            {
                throw new PortalException($"\"{name}\" is not a valid attribute name: start with a letter and use letters, digits, underscores and spaces (at most 64).");
            }
            if (BuiltInAttributes.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new PortalException($"{name} is built in (the user's own {name.ToLowerInvariant()}) and cannot be set here.");
            }
            if (value.Length == 0)
            {
                throw new PortalException($"Give {name} a value, or remove it.");
            }
            if (value.Length > 400)
            {
                throw new PortalException($"The value of {name} is too long (at most 400 characters).");
            }
            if (!wanted.TryAdd(name, value))
            {
                throw new PortalException($"{name} is listed twice.");
            }
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var email = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken)
            ?? throw new PortalException("That user no longer exists.");
        var stored = await db.UserAttributes.Where(a => a.UserId == userId).ToListAsync(cancellationToken);
        var changes = new List<string>();
        foreach (var attribute in stored)
        {
            if (!wanted.TryGetValue(attribute.Name, out var value))
            {
                db.UserAttributes.Remove(attribute);
                changes.Add($"{attribute.Name} removed");
            }
            else
            {
                // The name as typed now (Region, not region) and the value.
                var name = wanted.Keys.First(k => string.Equals(k, attribute.Name, StringComparison.OrdinalIgnoreCase));
                if (attribute.Value != value || attribute.Name != name)
                {
                    changes.Add($"{name} = {value}");
                    attribute.Name = name;
                    attribute.Value = value;
                }
            }
        }
        foreach (var (name, value) in wanted.Where(w => !stored.Any(s => string.Equals(s.Name, w.Key, StringComparison.OrdinalIgnoreCase))))
        {
            db.UserAttributes.Add(new UserAttribute { UserId = userId, Name = name, Value = value });
            changes.Add($"{name} = {value}");
        }
        if (changes.Count == 0)
        {
            return;
        }
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(AuditActions.PermissionChanged, $"User {email}", $"Attributes of {email}: {string.Join("; ", changes)}", cancellationToken: cancellationToken);
    }

    public async Task<bool> GetAdminsSeeAllDataAsync(CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        return await settings.GetFlagAsync(PortalSettings.AdminsSeeAllData, fallback: true, cancellationToken);
    }

    public async Task SetAdminsSeeAllDataAsync(bool value, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync();
        await settings.SetAsync(PortalSettings.AdminsSeeAllData, value ? "true" : "false", cancellationToken);
        await audit.RecordAsync(AuditActions.PermissionChanged, "Setting “Admins see all rows and columns”",
            value ? "Admins see all rows and columns" : "Admins are ruled like everyone else", cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Why a row rule cannot be used on a dataset, or null: the dataset's own columns only, and every condition complete
    /// (checked by the compiler). A condition whose value is a <c>{user.X}</c> token is checked for its field and
    /// operator only; its value is the user's, known at query time.
    /// </summary>
    private string? Validate(RuleGroup rule, QueryDataset dataset, DateOnly today)
    {
        var columns = dataset.OwnFields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        if (DataPolicy.Problem(rule, columns) is { } problem)
        {
            return problem;
        }
        var tokenNodes = rule.Descendants().OfType<FieldCondition>()
            .Where(c => new[] { c.Value, c.Value2 }.Concat(c.Values).Any(v => DataPolicy.AttributeOf(v) is not null))
            .Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var problems = ruleCheck.Check(rule, dataset, today);
        var summary = new RuleSummary(_ => null);
        foreach (var found in problems.Where(p => !tokenNodes.Contains(p.NodeId)))
        {
            var node = rule.Descendants().FirstOrDefault(n => n.Id == found.NodeId);
            return node is null ? found.Message : $"{found.Message} ({summary.Clause(node).Trim()})";
        }
        return null;
    }

    private static string Rows(string summary) =>
        summary.StartsWith("Customers ", StringComparison.Ordinal) ? "rows " + summary["Customers ".Length..] : summary;

    private static string DatasetSubject(Dataset dataset) => $"Dataset {dataset.Id} “{dataset.Name}”";

    private static async Task<Dataset> LoadDatasetAsync(IPortalDb db, int datasetId, CancellationToken cancellationToken) =>
        await db.Datasets.AsNoTracking().Include(d => d.Columns).SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken)
        ?? throw new PortalException("That dataset no longer exists.");

    /// <summary>Admins only, and never while viewing as another user.</summary>
    private Task RequireAdminAsync() => currentUser.RequireAsync(Permissions.ManageUsers);
}
