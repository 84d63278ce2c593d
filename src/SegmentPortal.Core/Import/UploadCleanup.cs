using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Core.Import;

/// <summary>Hourly, deletes uploads nobody imported within a day (closed tabs, abandoned imports), so the data folder does not fill up.</summary>
internal sealed class UploadCleanup(UploadStore uploads, TimeProvider clock, ILogger<UploadCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                var removed = uploads.DeleteAbandoned(MaxAge);
                if (removed > 0)
                {
                    logger.LogInformation("Removed {Count} abandoned upload files", removed);
                }
            }
            catch (IOException ex)
            {
                logger.LogWarning(ex, "Abandoned uploads could not all be removed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
