using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SegmentPortal.Core.Audit;

/// <summary>How long the audit log keeps entries (<c>Audit</c> in appsettings.json).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Entries older than this many days are deleted, at start and once a day.</summary>
    public int RetentionDays { get; set; } = 365;
}

/// <summary>At start and then once a day, deletes audit entries older than <see cref="AuditOptions.RetentionDays"/>.</summary>
internal sealed class AuditRetention(IServiceScopeFactory scopes, IOptions<AuditOptions> options, TimeProvider clock, ILogger<AuditRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromDays(1), clock);
        do
        {
            try
            {
                await PurgeOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Old audit entries could not be deleted; trying again tomorrow");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<int> PurgeOnceAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var removed = await scope.ServiceProvider.GetRequiredService<AuditLog>().PurgeAsync(options.Value.RetentionDays, cancellationToken);
        if (removed > 0)
        {
            logger.LogInformation("Deleted {Count} audit entries older than {Days} days", removed, options.Value.RetentionDays);
        }
        return removed;
    }
}
