using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegmentPortal.Core.Dashboards;

/// <summary>How a dashboard's tiles, layout and filters are stored: web casing, enums by name, nulls left out.</summary>
public static class DashboardJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write<T>(IReadOnlyList<T> items) => JsonSerializer.Serialize(items, Options);

    /// <summary>A stored list; a damaged document is reported, not silently emptied, so a save cannot overwrite it.</summary>
    public static IReadOnlyList<T> Read<T>(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<T>>(json, Options) ?? [];
        }
        catch (JsonException ex)
        {
            throw new PortalException($"This dashboard's saved {typeof(T).Name} data cannot be read ({ex.Message}).", ex);
        }
    }
}
