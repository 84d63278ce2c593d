using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Tests.Delivery;

/// <summary>
/// A real Kestrel server on a free loopback port that keeps every request posted to it (headers and body) and answers
/// with the statuses the test queues (200 when none is queued).
/// </summary>
public sealed class TestWebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SemaphoreSlim _arrived = new(0);

    private TestWebhookReceiver(WebApplication app)
    {
        _app = app;
    }

    public string Url => _app.Urls.First() + "/hook";

    public ConcurrentQueue<int> Statuses { get; } = new();

    public ConcurrentQueue<(IHeaderDictionary Headers, string Body, int Status)> Received { get; } = new();

    public static async Task<TestWebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new TestWebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = receiver.Statuses.TryDequeue(out var queued) ? queued : 200;
            var headers = new HeaderDictionary();
            foreach (var (name, value) in http.Request.Headers)
            {
                headers[name] = value;
            }
            receiver.Received.Enqueue((headers, body, status));
            receiver._arrived.Release();
            http.Response.StatusCode = status;
            await http.Response.WriteAsync(status == 200 ? "ok" : "receiver is down");
        });
        await app.StartAsync();
        return receiver;
    }

    public async Task WaitForAsync(int count, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2)); // only a guard against a hang
        while (Received.Count < count)
        {
            await _arrived.WaitAsync(limit.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
