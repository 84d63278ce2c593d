using SegmentPortal.Core.Activation;

namespace SegmentPortal.Web.Components.Activation;

/// <summary>How syncs' kinds, schedules and runs read on screen.</summary>
internal static class SyncLabels
{
    public static string Kind(SyncDestinationKind kind) => kind switch
    {
        SyncDestinationKind.Webhook => "Webhook",
        SyncDestinationKind.DatabaseTable => "Database table",
        _ => "File drop",
    };

    public static string Schedule(SyncSchedule schedule) => schedule switch
    {
        SyncSchedule.AfterRefresh => "After each refresh",
        SyncSchedule.Hourly => "Hourly",
        SyncSchedule.Daily => "Daily",
        _ => "By hand only",
    };

    public static string Mode(bool? full) => full switch
    {
        true => "Full",
        false => "Delta",
        _ => "—",
    };

    public static string Duration(long? milliseconds) => milliseconds switch
    {
        null => "",
        < 1000 => $"{milliseconds} ms",
        _ => $"{milliseconds / 1000.0:0.#} s",
    };
}
