using MudBlazor;
using SegmentPortal.Core;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// Runs a UI action and tells the user how it went in a snackbar: the message of a <see cref="PortalException"/>,
/// or a plain "something went wrong" with a reference to quote (details to the log, see <see cref="UserErrors"/>) for
/// anything else. Never an exception's text.
/// </summary>
public sealed class UiFeedback(ISnackbar snackbar, ILogger<UiFeedback> logger)
{
    /// <param name="quietCancel">Let cancellation through silently (e.g. a grid dropping an outdated page request).</param>
    public async Task<bool> RunAsync(Func<Task> action, string? success = null, bool quietCancel = false)
    {
        try
        {
            await action();
            if (success is not null)
            {
                snackbar.Add(success, Severity.Success);
            }
            return true;
        }
        catch (PortalException ex)
        {
            snackbar.Add(ex.Message, Severity.Error);
        }
        catch (OperationCanceledException) when (quietCancel)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            snackbar.Add("Cancelled.", Severity.Info);
        }
        catch (Exception ex)
        {
            snackbar.Add(UserErrors.Describe(ex, logger), Severity.Error);
        }
        return false;
    }

    public void Success(string message) => snackbar.Add(message, Severity.Success);

    public void Error(string message) => snackbar.Add(message, Severity.Error);
}
