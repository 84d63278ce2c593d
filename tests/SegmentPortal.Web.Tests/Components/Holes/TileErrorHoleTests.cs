using System.Security.Claims;
using System.Text.RegularExpressions;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Dashboards;
using SegmentPortal.Web.Infrastructure;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Holes;

/// <summary>
/// Issue 12: a tile that fails for a reason that is not a user message shows no exception text, only a reference the
/// user can quote; the exception is logged at Error with that reference.
/// </summary>
public sealed partial class TileErrorHoleTests : PortalTestContext, IAsyncLifetime
{
    private const string Internals = "Connection string 'Data Source=/srv/secret.db' failed at SegmentPortal.Core.Internal";

    private readonly CapturingLoggerProvider _logs = new();
    private readonly FailingCurrentUser _user = new();

    public async ValueTask InitializeAsync()
    {
        var store = Own(await PortalStore.CreateAsync());
        AddRealCore(store);
        Services.AddScoped<BrowserFiles>();
        Services.AddSingleton<ILoggerProvider>(_logs);
        Services.AddSingleton<ICurrentUser>(_user);
    }

    private static readonly TileDefinition Note = new() { Id = "note", Type = TileType.Text, Title = "Read me", Markdown = "Numbers are net of returns." };

    private IRenderedComponent<TileHost> RenderTile() => Render<TileHost>(p => p
        .Add(x => x.Dashboard, new DashboardView(1, "Sales", null, "id-owner", [Note], [new TileLayout("note", 0, 0, 4, 2)], [], 0, false, false, DateTimeOffset.UnixEpoch))
        .Add(x => x.Tile, Note)
        .Add(x => x.State, DashboardState.Empty));

    [Fact]
    public void E1_a_tile_that_fails_unexpectedly_shows_a_reference_not_the_exception_and_logs_it_with_that_reference()
    {
        SignInAs("viewer@example.com", Roles.Viewer);
        _user.Failure = new InvalidOperationException(Internals);

        var cut = RenderTile();

        cut.WaitForAssertion(() => Assert.Contains("Quote reference", cut.Markup));
        Assert.DoesNotContain("secret.db", cut.Markup);
        Assert.DoesNotContain("InvalidOperationException", cut.Markup);
        var reference = ReferenceIn(cut.Markup);
        Assert.Contains($"Something went wrong loading this tile. Quote reference {reference} when reporting it.", cut.Markup);
        var logged = Assert.Single(_logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(reference, StringComparison.Ordinal));
        Assert.Same(_user.Failure, logged.Exception);
    }

    [Fact]
    public void E2_a_tile_refused_with_a_user_message_still_shows_that_message()
    {
        SignInAs("viewer@example.com", Roles.Viewer);
        _user.Failure = new PortalException("That dataset does not exist or you do not have access to it.");

        var cut = RenderTile();

        cut.WaitForAssertion(() => Assert.Contains("That dataset does not exist or you do not have access to it.", cut.Markup));
        Assert.DoesNotContain("Quote reference", cut.Markup);
    }

    private static string ReferenceIn(string markup)
    {
        var match = Reference().Match(markup);
        Assert.True(match.Success, "No reference in the tile's error.");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("Quote reference ([A-Z0-9-]+) when")]
    private static partial Regex Reference();

    private sealed class FailingCurrentUser : ICurrentUser
    {
        public Exception? Failure { get; set; }

        public Task<ClaimsPrincipal> GetPrincipalAsync() => Failure is null ? Task.FromResult(new ClaimsPrincipal()) : Task.FromException<ClaimsPrincipal>(Failure);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (provider.Entries)
                {
                    provider.Entries.Add((logLevel, formatter(state, exception), exception));
                }
            }
        }
    }
}
