using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegmentPortal.Core.Dashboards;

/// <summary>How a dashboard's tiles, layout and filters are stored: web casing, enums by name, nulls left out.</summary>
internal static class DashboardJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write<T>(IReadOnlyList<T> items) => JsonSerializer.Serialize(items, Options);

    /// <summary>
    /// A stored list; a damaged document (not JSON, an item without its "kind", an empty item) is reported as a
    /// <see cref="PortalException"/>, not silently emptied, so a save cannot overwrite it.
    /// </summary>
    public static IReadOnlyList<T> Read<T>(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        List<T>? items;
        try
        {
            items = JsonSerializer.Deserialize<List<T>>(json, Options);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new PortalException($"This dashboard's saved {typeof(T).Name} data cannot be read ({ex.Message}).", ex);
        }
        var empty = items?.FindIndex(i => i is null) ?? -1;
        return empty < 0
            ? items ?? []
            : throw new PortalException($"This dashboard's saved {typeof(T).Name} data cannot be read (item {empty + 1} is empty).");
    }
}
