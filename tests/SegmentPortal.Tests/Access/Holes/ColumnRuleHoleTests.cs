using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Import;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12, L2: column rules and row rules hold when the dataset's owner (an Analyst, not an Admin) renames or leaves
/// out the columns they name.
/// </summary>
public sealed class ColumnRuleHoleTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A fresh copy of the customers (so renames here touch no other test) shared with Viewers: e-mail masked, phone
    /// hidden, credit limit hashed for them, and rows of their region.
    /// </summary>
    private async Task<Dataset> RuledCustomersAsync()
    {
        f.AsOwner();
        var dataset = await f.Harness.ImportTextAsync($"people-{Guid.NewGuid():N}.csv", PermissionFixture.CustomersCsv);
        await f.With<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer, Roles.Analyst], []));
        f.AsAdmin();
        await f.With<DataPermissionService>(async s =>
        {
            await s.SetColumnTreatmentAsync(dataset.Id, "email", Roles.Viewer, ColumnTreatment.Masked, Ct);
            await s.SetColumnTreatmentAsync(dataset.Id, "phone", Roles.Viewer, ColumnTreatment.Hidden, Ct);
            await s.SetColumnTreatmentAsync(dataset.Id, "credit_limit", Roles.Viewer, ColumnTreatment.Hashed, Ct);
            await s.SaveRowRuleAsync(dataset.Id, null, Roles.Viewer, null,
                new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = DataPolicy.Token("Region") }] }, Ct);
        });
        return dataset;
    }

    /// <summary>The owner edits the columns in the column editor: renames (old → new) and columns left out.</summary>
    private async Task EditColumnsAsync(Dataset dataset, Dictionary<string, string> renames, params string[] leftOut)
    {
        f.AsOwner();
        var current = await f.With<Authorizer, Dataset>(a => a.RequireReadableAsync(dataset.Id, Ct));
        var settings = DatasetRebuilder.SettingsOf(current)
            .Select(c => c with { Name = renames.GetValueOrDefault(c.Name, c.Name), IsExcluded = c.IsExcluded || leftOut.Contains(c.Name) })
            .ToList();
        await f.With<DatasetSchemaService, Dataset>(s => s.SaveColumnsAsync(dataset.Id, settings, Ct));
    }

    private async Task<DatasetPreview> PreviewAsNorthViewerAsync(Dataset dataset)
    {
        f.AsNorthViewer();
        return await f.With<DatasetProfiler, DatasetPreview>(p => p.PreviewAsync(dataset.Id, Ct));
    }

    private static List<string> ColumnValues(DatasetPreview preview, string column)
    {
        var index = preview.Columns.ToList().IndexOf(column);
        Assert.True(index >= 0, $"No column {column} in {string.Join(", ", preview.Columns)}");
        return preview.Rows.Select(r => Convert.ToString(r[index], System.Globalization.CultureInfo.InvariantCulture) ?? "∅").Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task L2_renaming_a_masked_hidden_or_hashed_column_keeps_its_rule()
    {
        var dataset = await RuledCustomersAsync();
        var before = await PreviewAsNorthViewerAsync(dataset);
        Assert.Equal(["id", "name", "region", "email", "credit_limit", "city"], before.Columns);

        await EditColumnsAsync(dataset, new() { ["email"] = "contact", ["phone"] = "tel", ["credit_limit"] = "limit" });

        var after = await PreviewAsNorthViewerAsync(dataset);
        Assert.Equal(["id", "name", "region", "contact", "limit", "city"], after.Columns);
        Assert.Equal(["a***@example.com", "c***@example.com"], ColumnValues(after, "contact"));
        Assert.Equal(ColumnValues(before, "credit_limit"), ColumnValues(after, "limit"));
        Assert.DoesNotContain(ColumnValues(after, "limit"), v => v is "1000" or "3000");
        Assert.Equal(2, after.TotalRows);
    }

    [Fact]
    public async Task L2_renaming_a_ruled_column_is_audited()
    {
        var dataset = await RuledCustomersAsync();

        await EditColumnsAsync(dataset, new() { ["email"] = "contact", ["city"] = "town" });

        await using var db = await f.Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        var entries = await db.AuditEntries.AsNoTracking().Where(e => e.Action == AuditActions.PermissionChanged && e.Subject!.Contains($"Dataset {dataset.Id} "))
            .Select(e => new { e.Detail, e.UserId }).ToListAsync(Ct);
        var renamed = Assert.Single(entries, e => e.Detail!.Contains("renamed", StringComparison.Ordinal));
        Assert.Contains("email", renamed.Detail);
        Assert.Contains("contact", renamed.Detail);
        Assert.DoesNotContain("city", renamed.Detail); // no rule names it: not a permission change
        Assert.Equal(f.Owner.Id, renamed.UserId);
    }

    [Fact]
    public async Task L2_renaming_the_column_a_row_rule_compares_keeps_the_rows_ruled()
    {
        var dataset = await RuledCustomersAsync();

        await EditColumnsAsync(dataset, new() { ["region"] = "area" });

        var after = await PreviewAsNorthViewerAsync(dataset);
        Assert.Equal(2, after.TotalRows);
        Assert.Equal(["North", "North"], ColumnValues(after, "area"));
    }

    [Fact]
    public async Task L2_leaving_out_the_column_a_row_rule_compares_shows_no_rows_rather_than_all()
    {
        var dataset = await RuledCustomersAsync();

        await EditColumnsAsync(dataset, new(), "region");

        var after = await PreviewAsNorthViewerAsync(dataset);
        Assert.Empty(after.Rows);
        Assert.Equal(0, after.TotalRows);
    }

    [Fact]
    public void L2_a_column_rule_follows_its_column_id_and_one_that_cannot_be_resolved_hides_the_column_of_its_name()
    {
        var dataset = new SegmentPortal.Core.Access.QueryDataset(7, "People", "people_t",
        [
            new("id", ColumnType.Integer, FieldRole.CustomerId) { ColumnId = 1 },
            new("email", ColumnType.Text, FieldRole.None) { ColumnId = 2 },
            new("contact", ColumnType.Text, FieldRole.None) { ColumnId = 3 },
            new("city", ColumnType.Text, FieldRole.None) { ColumnId = 4 },
        ], DateTimeOffset.UnixEpoch);
        var viewer = new AccessSubject("u1", null, null, new HashSet<string> { Roles.Viewer }, new Dictionary<string, string>());
        var rules = new DatasetRules([],
        [
            // Column 3 was called "phone" when the rule was saved: the rule follows the id, not the name.
            new ColumnRule { DatasetId = 7, ColumnId = 3, Column = "phone", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked },
            // Column 9 is gone; a later column of its name is hidden rather than shown plain.
            new ColumnRule { DatasetId = 7, ColumnId = 9, Column = "email", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked },
            // Stored by name alone (before ids): applies by name.
            new ColumnRule { DatasetId = 7, Column = "city", Role = Roles.Viewer, Treatment = ColumnTreatment.Hashed },
        ]);

        var seen = DataPolicy.Restrict(dataset, rules, viewer, adminsExempt: true, "k");

        Assert.Equal(["email"], seen.HiddenColumns);
        Assert.Equal(ColumnTreatment.Masked, seen.Field("contact")!.Treatment);
        Assert.Equal(ColumnTreatment.Hashed, seen.Field("city")!.Treatment);
        Assert.Equal(ColumnTreatment.Visible, seen.Field("id")!.Treatment);
    }
}
