using MudBlazor;
using SegmentPortal.Core.Delivery;

namespace SegmentPortal.Web.Components.Layout;

/// <summary>How the bell and the Notifications page show a notification's kind and the unread count.</summary>
public static class NotificationLabels
{
    /// <summary>The badge's text: the count, or "99+" above 99.</summary>
    public static string Count(int unread) => unread > 99 ? "99+" : unread.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Icon(NotificationKind kind) => kind switch
    {
        NotificationKind.Success => Icons.Material.Outlined.CheckCircle,
        NotificationKind.Warning => Icons.Material.Outlined.WarningAmber,
        NotificationKind.Error => Icons.Material.Outlined.ErrorOutline,
        _ => Icons.Material.Outlined.Info,
    };

    public static Color Color(NotificationKind kind) => kind switch
    {
        NotificationKind.Success => MudBlazor.Color.Success,
        NotificationKind.Warning => MudBlazor.Color.Warning,
        NotificationKind.Error => MudBlazor.Color.Error,
        _ => MudBlazor.Color.Info,
    };

    public static string Kind(NotificationKind kind) => kind switch
    {
        NotificationKind.Success => "Good news",
        NotificationKind.Warning => "Warning",
        NotificationKind.Error => "Problem",
        _ => "Information",
    };
}
