using System.Collections.Concurrent;
using System.Reflection;
using SegmentPortal.Core.Dashboards;

namespace SegmentPortal.Web.Components.Dashboards;

/// <summary>The MudBlazor icon of a tile type, from the Material icon name its <see cref="TileKind"/> gives.</summary>
public static class TileIcons
{
    private static readonly ConcurrentDictionary<string, string?> Cache = new(StringComparer.Ordinal);

    /// <summary>The icon named by the kind, or null when MudBlazor has no outlined Material icon of that name.</summary>
    public static string? Find(TileKind kind) => Cache.GetOrAdd(kind.Icon, name =>
        typeof(MudBlazor.Icons.Material.Outlined).GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string);

    /// <summary>The kind's icon, or a generic chart icon.</summary>
    public static string For(TileKind kind) => Find(kind) ?? MudBlazor.Icons.Material.Outlined.InsertChart;
}
