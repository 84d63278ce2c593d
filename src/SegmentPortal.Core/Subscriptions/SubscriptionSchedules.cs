using System.Text.Json;
using System.Text.Json.Serialization;
using SegmentPortal.Core.Common;

namespace SegmentPortal.Core.Subscriptions;

/// <summary>A subscription's <see cref="CheckSchedule"/> as stored (<see cref="Subscription.ScheduleJson"/>).</summary>
internal static class SubscriptionSchedules
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Write(CheckSchedule schedule) => JsonSerializer.Serialize(schedule, Options);

    /// <summary>The stored schedule; an unreadable one reads as "after each refresh" (no clock), so it never fires in a loop.</summary>
    public static CheckSchedule Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return CheckSchedule.AfterRefreshOnly;
        }
        try
        {
            return JsonSerializer.Deserialize<CheckSchedule>(json, Options) ?? CheckSchedule.AfterRefreshOnly;
        }
        catch (JsonException)
        {
            return CheckSchedule.AfterRefreshOnly;
        }
    }
}
