using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Activation;

/// <summary>
/// Posts a change as signed JSON batches to a webhook endpoint: <c>{"type":"segment.members","mode","segment",
/// "entered":[…],"left":[…],"batch","batches"}</c>, first the members who entered, then those who left. Each batch's
/// <c>webhook-id</c> is derived from the sync, the delivered version the change is against, a fingerprint of the change
/// and the batch number, so a retried run sends the same batches under the same ids (receivers drop repeats). A batch
/// is tried a few times with a growing wait before the run fails.
/// </summary>
internal sealed class WebhookSyncDestination(IPortalDbFactory dbFactory, WebhookDelivery delivery, IOptions<SyncOptions> options, TimeProvider clock) : ISyncDestination
{
    public SyncDestinationKind Kind => SyncDestinationKind.Webhook;

    public const string EventType = "segment.members";

    public static string BatchKey(int syncId, long baseVersion, string fingerprint, int batch) =>
        string.Create(CultureInfo.InvariantCulture, $"sync-{syncId}-v{baseVersion}-{fingerprint[..Math.Min(12, fingerprint.Length)]}-b{batch}");

    public async Task<SyncOutcome> DeliverAsync(SyncDeliveryWork work, IServiceProvider services, CancellationToken cancellationToken)
    {
        WebhookEndpoint? endpoint;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == work.Sync.WebhookEndpointId, cancellationToken);
        }
        if (endpoint is null)
        {
            throw new SyncFailedException("The sync's webhook endpoint was removed; choose another one.");
        }
        var size = Math.Clamp(options.Value.BatchSize, 1, 100_000);
        var enteredBatches = (int)((work.Change.Entered + size - 1) / size);
        var leftBatches = (int)((work.Change.Left + size - 1) / size);
        var batches = enteredBatches + leftBatches;
        var batch = 0;
        foreach (var chunk in work.Entered().Chunk(size))
        {
            var entered = new JsonArray();
            foreach (var member in chunk)
            {
                var item = new JsonObject { ["customer_key"] = member.Key };
                for (var i = 0; i < work.Columns.Count; i++)
                {
                    item[work.Columns[i].Name] = member.Values[i] switch
                    {
                        null => null,
                        double d when double.IsFinite(d) => JsonValue.Create(d),
                        var v => JsonValue.Create(Convert.ToString(v, CultureInfo.InvariantCulture)),
                    };
                }
                entered.Add(item);
            }
            await PostAsync(endpoint, work, ++batch, batches, entered, [], cancellationToken);
        }
        foreach (var chunk in work.Left().Chunk(size))
        {
            await PostAsync(endpoint, work, ++batch, batches, [], new JsonArray(chunk.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()), cancellationToken);
        }
        return new SyncOutcome(work.Change.Entered + work.Change.Left, work.Change.Entered, work.Change.Left);
    }

    private async Task PostAsync(WebhookEndpoint endpoint, SyncDeliveryWork work, int batch, int batches, JsonArray entered, JsonArray left,
        CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["type"] = EventType,
            ["mode"] = work.Full ? "full" : "delta",
            ["sync"] = work.Sync.Id,
            ["segment"] = new JsonObject { ["id"] = work.Segment.Id, ["name"] = work.Segment.Name },
            ["entered"] = entered,
            ["left"] = left,
            ["batch"] = batch,
            ["batches"] = batches,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        var key = BatchKey(work.Sync.Id, work.BaseVersion, work.Change.Fingerprint, batch);
        var attempts = Math.Max(1, options.Value.BatchAttempts);
        var wait = TimeSpan.FromMilliseconds(Math.Max(0, options.Value.BatchRetryMilliseconds));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await delivery.PostAsync(endpoint, key, body, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= attempts)
                {
                    throw new SyncFailedException($"Batch {batch} of {batches} was not accepted after {attempts} tries: {ex.Message}", ex);
                }
                await Task.Delay(wait, clock, cancellationToken);
                wait *= 2;
            }
            catch (PortalException ex)
            {
                throw new SyncFailedException($"Batch {batch} of {batches} could not be sent: {ex.Message}", ex);
            }
        }
    }
}
