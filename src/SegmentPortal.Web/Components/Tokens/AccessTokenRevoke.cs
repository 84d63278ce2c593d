using MudBlazor;
using SegmentPortal.Core.Users;
using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Web.Components.Tokens;

/// <summary>The one confirmation and revocation both token pages use.</summary>
internal static class AccessTokenRevoke
{
    /// <summary>Asks, then revokes; true when the token was revoked.</summary>
    public static async Task<bool> ConfirmAndRevokeAsync(IDialogService dialogs, UiFeedback feedback, AccessTokenService tokens, AccessTokenRow token, bool showOwner)
    {
        var whose = showOwner ? $" of {token.UserEmail}" : "";
        var confirmed = await dialogs.ShowMessageBoxAsync("Revoke token",
            $"Revoke “{token.Name}”{whose}? Scripts and jobs using it are refused from their next request. This cannot be undone.",
            yesText: "Revoke", cancelText: "Cancel");
        return confirmed == true && await feedback.RunAsync(() => tokens.RevokeAsync(token.Id), $"“{token.Name}” revoked.");
    }
}
