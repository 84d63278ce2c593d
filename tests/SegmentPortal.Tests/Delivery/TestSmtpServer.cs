using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace SegmentPortal.Tests.Delivery;

/// <summary>
/// A real SMTP server (the SmtpServer package) on a free loopback port. Keeps every message it accepts; the first
/// <see cref="RefuseNext"/> messages are refused with a temporary error (451) after their data arrived.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly Store _store;

    private TestSmtpServer(int port)
    {
        Port = port;
        _store = new Store(this);
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port))).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>How many of the next messages to refuse (451, try again later).</summary>
    public int RefuseNext { get; set; }

    /// <summary>Every message whose data arrived, accepted or refused, in order.</summary>
    public ConcurrentQueue<(MimeMessage Message, bool Accepted)> Received { get; } = new();

    private readonly SemaphoreSlim _arrived = new(0);

    /// <summary>Waits until <paramref name="count"/> messages have arrived (accepted or refused).</summary>
    public async Task WaitForAsync(int count, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(2)); // only a guard against a hang
        while (Received.Count < count)
        {
            await _arrived.WaitAsync(limit.Token);
        }
    }

    public static TestSmtpServer Start()
    {
        // A port free a moment ago; the server binds it at once.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new TestSmtpServer(port);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private sealed class Store(TestSmtpServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            var accept = true;
            lock (owner)
            {
                if (owner.RefuseNext > 0)
                {
                    owner.RefuseNext--;
                    accept = false;
                }
            }
            owner.Received.Enqueue((message, accept));
            owner._arrived.Release();
            return accept ? SmtpResponse.Ok : new SmtpResponse((SmtpReplyCode)451, "Try again later");
        }
    }
}
