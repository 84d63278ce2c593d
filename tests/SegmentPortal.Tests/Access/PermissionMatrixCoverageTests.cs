using System.Reflection;
using SegmentPortal.Core;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// Keeps <see cref="PermissionMatrix.Surfaces"/> complete: a Core method that serves customer data and has no row fails
/// here, so the list of holes of issue 12 cannot come back through a new surface nobody put in the table.
/// </summary>
public sealed class PermissionMatrixCoverageTests
{
    // ----- every surface has a row -----

    /// <summary>
    /// Types whose values are customer figures without holding cells of type <see cref="object"/> (counts, sizes,
    /// distributions). A method returning one (or <see cref="object"/> cells, or taking a <see cref="Stream"/>) serves data.
    /// </summary>
    private static readonly HashSet<Type> FigureTypes =
    [
        typeof(ColumnProfile), typeof(ValueCount), typeof(DatasetOverview), typeof(DatasetSummary), typeof(PortalOverview), typeof(DatasetRefresh),
        typeof(FilterValue), typeof(LiveCount), typeof(SegmentRow), typeof(SegmentSnapshot), typeof(SegmentOverlap), typeof(RfmSummary), typeof(RfmView),
        typeof(ClusteringRunSummary), typeof(ClusteringRunView), typeof(SegmentPortal.Core.Analysis.Churn.ChurnRunSummary),
        typeof(SegmentPortal.Core.Analysis.Churn.ChurnRunView), typeof(AuditResults),
        typeof(MetricValues), typeof(MetricPoint), typeof(MetricSameDays), typeof(SegmentPortal.Core.Alerts.AlertCheckRow),
        typeof(SegmentPortal.Core.Alerts.AlertChartBand),
        typeof(SegmentPortal.Core.Analysis.Lifetime.LifetimeResult),
    ];

    /// <summary>
    /// The rule that finds the surfaces: a public method of a public type of SegmentPortal.Core whose result (Task
    /// unwrapped) holds rows (<c>object?[]</c>), cells or keys (<see cref="object"/>) or one of <see cref="FigureTypes"/>
    /// — looking through generic arguments, arrays, tuples and the public properties of Core types — or that takes a
    /// <see cref="Stream"/> (writes an export).
    /// </summary>
    public static IReadOnlyList<string> DataServingMethods()
    {
        var core = typeof(PortalException).Assembly;
        return core.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsSubclassOf(typeof(Delegate)) && !t.IsSubclassOf(typeof(Exception)))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => !m.IsSpecialName && !m.Name.StartsWith('<') && m.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null)
                .Where(m => m.GetParameters().Any(p => typeof(Stream).IsAssignableFrom(p.ParameterType)) || Carries(m.ReturnType, [], core))
                .Select(m => $"{t.Name}.{m.Name}"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool Carries(Type type, HashSet<Type> seen, Assembly core)
    {
        if (type.IsByRef || type.IsPointer)
        {
            type = type.GetElementType()!;
        }
        if (!seen.Add(type))
        {
            return false;
        }
        if (type == typeof(object) || FigureTypes.Contains(type))
        {
            return true;
        }
        if (type.IsArray)
        {
            return Carries(type.GetElementType()!, seen, core);
        }
        if (type.IsGenericType && type.GetGenericArguments().Any(a => Carries(a, seen, core)))
        {
            return true;
        }
        return type.Assembly == core && !type.IsEnum
            && type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => p.GetIndexParameters().Length == 0 && Carries(p.PropertyType, seen, core));
    }

    [Fact]
    public void Every_data_serving_method_has_a_row()
    {
        var covered = PermissionMatrix.Surfaces.SelectMany(s => s.Methods).ToHashSet();
        var missing = DataServingMethods().Where(m => !covered.Contains(m) && !PermissionMatrix.NotDataSurfaces.ContainsKey(m)).ToList();

        Assert.True(missing.Count == 0,
            "These Core methods serve customer data but have no row in PermissionMatrix.Surfaces (add one, with the outcome for every kind of user):\n"
            + string.Join("\n", missing));
    }

    [Fact]
    public void The_rule_finds_the_known_surfaces()
    {
        // If the rule stopped seeing these, it would let a new surface of the same shape through.
        Assert.Subset(DataServingMethods().ToHashSet(), new HashSet<string>
        {
            "DatasetProfiler.PreviewAsync", "DatasetProfiler.ProfileAsync", "TileDataService.LoadAsync", "TileDataService.UnderlyingAsync",
            "TileDataService.FilterValuesAsync", "SegmentService.CountAsync", "SegmentService.AllMembersAsync", "SegmentService.HistoryAsync",
            "RfmService.GetAsync", "ClusteringService.GetAsync", "ClusteringService.HistoryAsync", "DatasetCatalog.HistoryAsync",
            "TableExport.WriteCsvAsync", "QueryService.RunAsync", "MetricService.ValuesAsync", "MetricService.PreviewAsync",
        });
    }

    [Fact]
    public void Every_row_names_methods_that_exist_and_every_exemption_is_still_found()
    {
        var found = DataServingMethods();
        var named = PermissionMatrix.Surfaces.SelectMany(s => s.Methods).Distinct().ToList();
        // A row may also name methods the rule does not find (a count, a check that guards an export); they must exist.
        var exported = typeof(PortalException).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).Select(m => $"{t.Name}.{m.Name}"))
            .ToHashSet();

        Assert.Equal([], named.Where(m => !exported.Contains(m)).ToList());
        Assert.Equal([], PermissionMatrix.NotDataSurfaces.Keys.Where(m => !found.Contains(m)).ToList());
        Assert.Equal([], PermissionMatrix.NotDataSurfaces.Keys.Where(named.Contains).ToList());
        Assert.Equal(PermissionMatrix.Surfaces.Length, PermissionMatrix.Surfaces.Select(s => s.Name).Distinct().Count());
        Assert.Equal([], PermissionMatrix.Open.Keys.Select(k => k.Surface).Distinct().Where(s => PermissionMatrix.Surfaces.All(r => r.Name != s)).ToList());
        Assert.All(PermissionMatrix.Surfaces, s => Assert.Equal(Enum.GetValues<UserKind>().Length, s.Cells.Length));
    }
}
