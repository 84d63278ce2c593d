using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SegmentPortal.Data;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>Issue 12, L2: the migration that keys column rules by column id converts the rules stored by name.</summary>
public sealed class ColumnRuleMigrationTests
{
    [Fact]
    public async Task L2_the_migration_gives_name_keyed_rules_their_column_including_a_column_renamed_before_it()
    {
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        MetadataDatabase.Configure(options, MetadataProvider.Sqlite, $"Data Source={folder.File("portal.db")}");
        await using (var db = new PortalDbContext(options.Options))
        {
            var migrator = db.GetService<IMigrator>();
            var migrations = db.Database.GetMigrations().ToList();
            var converting = migrations.Single(m => m.EndsWith("_ColumnRulesByIdAndLinkCustomerLists", StringComparison.Ordinal));
            await migrator.MigrateAsync(migrations[migrations.IndexOf(converting) - 1], cancellationToken: ct);

            // email kept its name; phone was renamed to tel before the change (its rule had stopped applying); the rule
            // on fax names no column at all.
            await db.Database.ExecuteSqlRawAsync(
                """
                INSERT INTO "Datasets" ("Id", "Name", "TableName", "Kind", "Source", "RowCount", "CreatedAt", "RefreshedAt")
                    VALUES (5, 'People', 't_people', 0, 'Test', 0, 0, 0);
                INSERT INTO "DatasetColumns" ("Id", "DatasetId", "Ordinal", "Name", "SourceName", "Type", "WarehouseType") VALUES
                    (50, 5, 0, 'email', 'email', 0, 'VARCHAR'), (51, 5, 1, 'tel', 'phone', 0, 'VARCHAR');
                INSERT INTO "ColumnRules" ("DatasetId", "Column", "Role", "Treatment") VALUES
                    (5, 'email', 'Viewer', 2), (5, 'phone', 'Viewer', 1), (5, 'fax', 'Viewer', 1);
                """, ct);

            await migrator.MigrateAsync(cancellationToken: ct);
        }

        await using (var db = new PortalDbContext(options.Options))
        {
            var rules = await db.ColumnRules.AsNoTracking().OrderBy(r => r.Id).Select(r => new { r.Column, r.ColumnId }).ToListAsync(ct);
            Assert.Equal([("email", (int?)50), ("tel", 51), ("fax", null)], rules.Select(r => (r.Column, r.ColumnId)));
            Assert.False(await db.PublicLinks.AnyAsync(l => l.AllowRows, ct));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
