using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Import.Excel;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Subscriptions;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Tests.Architecture;

/// <summary>
/// Keeps SegmentPortal.Core's implementation types internal: the Web host and the data assemblies reach Core through
/// its services and contracts, never through the compiler, dialect, SQL helpers, job machinery or the modules'
/// implementations of each other's interfaces. Only the test, bunit and benchmark projects see them
/// (InternalsVisibleTo in SegmentPortal.Core.csproj). A type on this list made public again fails here.
/// </summary>
public sealed class InternalTypesTests
{
    private static readonly Type[] Internal =
    [
        // Queries: compiling and dialect (QueryService is the way in).
        typeof(QueryCompiler), typeof(DuckDbDialect), typeof(PostgresSqlDialect), typeof(TSqlDialect), typeof(SqlDialects), typeof(RowRuleCheck), typeof(QueryValue),
        // Warehouse and common SQL helpers.
        typeof(WarehouseCommand), typeof(WarehouseNames), typeof(SqlIdentifiers), typeof(CsvWriter),
        typeof(SelectValidator),
        // Datasets and Import: building tables, reading files, running imports.
        typeof(LiveTableBuilder), typeof(RecipeCompiler), typeof(DatasetRelations), typeof(CsvLayoutReader),
        typeof(XlsxReader), typeof(DatasetImportRunner), typeof(RefreshSwapLog), typeof(ImportRecoveryStep),
        // Jobs: the runner and the journal (JobQueue is the way in).
        typeof(JobRunner), typeof(JobJournal),
        // Dashboards: turning tiles into queries (TileDataService is the way in).
        typeof(TileQueryBuilder), typeof(TileValidator), typeof(DashboardFilters),
        // Analysis: scoring.
        typeof(RfmScorer),
        // One module's answer to another module's interface, registered in DI.
        typeof(RuledDatasetView), typeof(SegmentDefinitions), typeof(SegmentItems), typeof(DashboardItems),
        typeof(DashboardDatasets),
        // Subscriptions: scheduling and sending (SubscriptionService is the way in).
        typeof(SubscriptionRunner), typeof(SubscriptionScheduler), typeof(SubscriptionRefreshListener), typeof(SubscriptionEmails),
        typeof(SubscriptionSchedules),
    ];

    [Fact]
    public void Implementation_types_of_Core_are_not_public()
    {
        Assert.All(Internal, type => Assert.Same(typeof(PortalException).Assembly, type.Assembly));

        var visible = Internal.Where(t => t.IsVisible).Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();

        Assert.True(visible.Count == 0,
            "These implementation types of SegmentPortal.Core must stay internal (InternalTypesTests.Internal):\n"
            + string.Join("\n", visible));
    }
}
