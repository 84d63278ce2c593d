using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;
using SegmentPortal.Core;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Web.Tests.Infrastructure;

/// <summary>
/// The one bUnit context every test class derives from: loose JS interop, MudBlazor's services without transitions,
/// the portal's UI services over real in-memory Core objects (a <see cref="JobQueue"/>, a settable current user),
/// and helpers to sign in as a role.
/// </summary>
public abstract class PortalTestContext : BunitContext
{
    private readonly List<IAsyncDisposable> _owned = [];
    private BunitAuthorizationContext? _authorization;
    private bool _cleanedUp;

    protected PortalTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        // Job updates and debounced recounts arrive from other threads. WaitForAssertion/WaitForState return as soon as
        // the state shows; this is only how long a busy build machine may take before a test gives up.
        DefaultWaitTimeout = TimeSpan.FromSeconds(90);

        Services.AddMudServices(o =>
        {
            o.SnackbarConfiguration.ShowTransitionDuration = 0;
            o.SnackbarConfiguration.HideTransitionDuration = 0;
            o.PopoverOptions.CheckForPopoverProvider = false;
        });
        Services.AddLogging();
        Services.AddSingleton<TimeProvider>(Clock);
        Services.AddSingleton(Jobs);
        Services.AddSingleton(CurrentUser);
        Services.AddSingleton<ICurrentUser>(CurrentUser);
        Services.AddSingleton<AntiforgeryStateProvider, FakeAntiforgeryStateProvider>();
        Services.AddScoped<UiFeedback>();
        Services.AddScoped<DemoDataService>();
    }

    /// <summary>The clock components read; fixed so "5 min ago" is deterministic.</summary>
    protected FixedClock Clock { get; } = new(new DateTimeOffset(2025, 6, 15, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A real job queue on the system clock (jobs are ordered by when they were queued).</summary>
    protected JobQueue Jobs { get; } = new(TimeProvider.System);

    /// <summary>Who Core's services think is asking; <see cref="SignInAs"/> sets it along with the UI's auth state.</summary>
    protected TestCurrentUser CurrentUser { get; } = new();

    /// <summary>The snackbar the components under test report to.</summary>
    protected ISnackbar Snackbar => Services.GetRequiredService<ISnackbar>();

    /// <summary>Messages shown in snackbars so far.</summary>
    protected IReadOnlyList<string> SnackbarMessages => Snackbar.ShownSnackbars.Select(s => s.Message ?? string.Empty).ToList();

    /// <summary>
    /// Signs in as <paramref name="name"/> with <paramref name="roles"/>: the cascading authentication state, the
    /// authorization policies the roles grant (as the web host maps permissions to policies), and Core's current user.
    /// </summary>
    protected BunitAuthorizationContext SignInAs(string name, params string[] roles)
    {
        var auth = _authorization ??= AddAuthorization();
        auth.SetAuthorized(name);
        auth.SetRoles(roles);
        auth.SetPolicies(Permissions.All.Where(p => Permissions.RolesGranted(p).Intersect(roles).Any()).ToArray());
        CurrentUser.Principal = Principal(name, roles);
        return auth;
    }

    /// <summary>No one signed in: the cascading authentication state is anonymous.</summary>
    protected BunitAuthorizationContext SignedOut()
    {
        var auth = _authorization ??= AddAuthorization();
        auth.SetNotAuthorized();
        CurrentUser.Principal = new ClaimsPrincipal(new ClaimsIdentity());
        return auth;
    }

    public static ClaimsPrincipal Principal(string name, params string[] roles) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, $"id-{name}"), new Claim(ClaimTypes.Name, name), .. roles.Select(r => new Claim(ClaimTypes.Role, r))],
            authenticationType: "Test"));

    /// <summary>A request for a job that waits until <paramref name="release"/> completes (or it is cancelled).</summary>
    protected static JobRequest BlockingJob(string key, string title, Task release) =>
        Job(key, title, async (_, _, ct) => await release.WaitAsync(ct));

    protected static JobRequest Job(string key, string title, JobWork work) =>
        new("test", title, key, Principal("analyst@example.com", Roles.Analyst), work);

    /// <summary>
    /// Starts a real <see cref="JobRunner"/> over <see cref="Jobs"/>, stopped when the test ends. Without it jobs stay
    /// queued, which is all most tests need.
    /// </summary>
    protected async Task StartJobRunnerAsync()
    {
        var services = new ServiceCollection();
        services.AddScoped<ScopedPrincipal>();
        var provider = services.BuildServiceProvider();
        var runner = new JobRunner(Jobs, provider.GetRequiredService<IServiceScopeFactory>(), NullLogger<JobRunner>.Instance);
        await runner.StartAsync(Xunit.TestContext.Current.CancellationToken);
        Own(new AsyncDisposable(async () =>
        {
            await runner.StopAsync(CancellationToken.None);
            runner.Dispose();
            await provider.DisposeAsync();
        }));
    }

    /// <summary>
    /// The real Core services as the app registers them (empty configuration), over <paramref name="store"/>'s metadata
    /// store, warehouse and data folder. Register test doubles (a current user, loggers) after it.
    /// </summary>
    protected void AddRealCore(PortalStore store)
    {
        Services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        Services.AddSegmentPortalCore();
        Services.AddSingleton(store.Db);
        Services.AddSingleton(store.Warehouse);
        Services.AddSingleton(store.Paths);
    }

    /// <summary>Disposes <paramref name="resource"/> after the rendered components and the services, when the test ends.</summary>
    protected T Own<T>(T resource) where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await CleanUpAsync();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            CleanUpAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private async ValueTask CleanUpAsync()
    {
        if (_cleanedUp)
        {
            return;
        }
        _cleanedUp = true;
        foreach (var resource in Enumerable.Reverse(_owned))
        {
            await resource.DisposeAsync();
        }
    }

    private sealed class AsyncDisposable(Func<ValueTask> dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => dispose();
    }
}

/// <summary>The current user as a test sets it; anonymous until then.</summary>
public sealed class TestCurrentUser : ICurrentUser
{
    public ClaimsPrincipal Principal { get; set; } = new(new ClaimsIdentity());

    public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(Principal);
}

/// <summary>A clock that says what the test tells it to.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Gives <c>&lt;AntiforgeryToken /&gt;</c> a token, as the server does during a real request.</summary>
public sealed class FakeAntiforgeryStateProvider : AntiforgeryStateProvider
{
    public const string FieldName = "__RequestVerificationToken";
    public const string Token = "test-antiforgery-token";

    public override AntiforgeryRequestToken GetAntiforgeryToken() => new(Token, FieldName);
}
