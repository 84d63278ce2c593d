using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SegmentPortal.Data;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Data;

public sealed class MigrationTests
{
    private static PortalDbContext Context(MetadataProvider provider, string connectionString)
    {
        var options = new DbContextOptionsBuilder<PortalDbContext>();
        MetadataDatabase.Configure(options, provider, connectionString);
        return new PortalDbContext(options.Options);
    }

    [Theory]
    [InlineData(MetadataProvider.Sqlite, "Data Source=:memory:")]
    [InlineData(MetadataProvider.SqlServer, "Server=unused;Database=unused;TrustServerCertificate=True")]
    public void Model_changes_all_have_a_migration(MetadataProvider provider, string connectionString)
    {
        using var db = Context(provider, connectionString);

        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(),
            $"The model has changed since the last {provider} migration. Add one: " +
            $"dotnet ef migrations add <Name> --project src/SegmentPortal.Data.{provider} --startup-project src/SegmentPortal.Data.{provider}");
    }

    [Fact]
    public void Both_providers_have_the_same_migrations()
    {
        using var sqlite = Context(MetadataProvider.Sqlite, "Data Source=:memory:");
        using var sqlServer = Context(MetadataProvider.SqlServer, "Server=unused;Database=unused");

        static IEnumerable<string> Names(PortalDbContext db) => db.Database.GetMigrations().Select(m => m[15..]);
        Assert.Equal(Names(sqlite), Names(sqlServer));
    }

    [Fact]
    public void SqlServer_migration_script_is_generated()
    {
        using var db = Context(MetadataProvider.SqlServer, "Server=unused;Database=unused");

        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);

        Assert.Contains("CREATE TABLE [AspNetUsers]", script);
        Assert.Contains("CREATE TABLE [Datasets]", script);
        Assert.Contains("[PrefersDarkMode] bit NOT NULL", script);
    }

    [Fact]
    public async Task Sqlite_migrations_create_a_new_database_file()
    {
        using var folder = new TempFolder();
        var file = folder.File("portal.db");
        await using (var db = Context(MetadataProvider.Sqlite, $"Data Source={file}"))
        {
            await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.Datasets.CountAsync(TestContext.Current.CancellationToken));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.True(File.Exists(file));
    }

    [Fact]
    public async Task SqlServer_migrations_apply_to_a_real_server()
    {
        var connectionString = Environment.GetEnvironmentVariable("SEGMENTPORTAL_SQLSERVER");
        Assert.SkipWhen(string.IsNullOrWhiteSpace(connectionString),
            "SEGMENTPORTAL_SQLSERVER is not set: no SQL Server to migrate. Set it to a connection string to run this test.");

        await using var db = Context(MetadataProvider.SqlServer, connectionString!);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.True(await db.Roles.CountAsync(TestContext.Current.CancellationToken) >= 0);
    }

    [Theory]
    [InlineData(null, MetadataProvider.Sqlite)]
    [InlineData("", MetadataProvider.Sqlite)]
    [InlineData("sqlite", MetadataProvider.Sqlite)]
    [InlineData("SqlServer", MetadataProvider.SqlServer)]
    public void Provider_setting_is_parsed(string? value, MetadataProvider expected) =>
        Assert.Equal(expected, MetadataDatabase.ParseProvider(value));

    [Fact]
    public void Unknown_provider_is_refused_with_the_choices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MetadataDatabase.ParseProvider("Oracle"));
        Assert.Contains("Sqlite", error.Message);
        Assert.Contains("SqlServer", error.Message);
    }
}
