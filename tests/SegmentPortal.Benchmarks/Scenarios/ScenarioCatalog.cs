using SegmentPortal.Benchmarks.Framework;

namespace SegmentPortal.Benchmarks.Scenarios;

/// <summary>Every scenario the harness knows, by the name typed on the command line.</summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new ImportScenario(),
        new SegmentCountScenario(),
        new LiveCountScenario(),
        new DashboardScenario(),
        new KMeansScenario(),
        new RfmScenario(),
        new AlertsScenario(),
        new ClvScenario(),
        new SyncScenario(),
    ];

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);
}
