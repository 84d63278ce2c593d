using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using SegmentPortal.Core;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Data;
using SegmentPortal.Web.Api;
using SegmentPortal.Web.Components;
using SegmentPortal.Web.Components.Account;

namespace SegmentPortal.Web.Infrastructure;

public static class HostingExtensions
{
    public static WebApplicationBuilder AddSegmentPortal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var isDevelopment = builder.Environment.IsDevelopment();

        // Fail fast on settings that must never reach production.
        AdminBootstrapper.ValidateForEnvironment(configuration.GetSection(AdminOptions.Section).Get<AdminOptions>() ?? new(), isDevelopment);
        var paths = StoragePaths.Resolve(configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new());
        paths.EnsureCreated();
        services.AddSingleton(paths);
        // Keys live with the data, so sign-in cookies and stored connection passwords survive restarts.
        services.AddDataProtection()
            .SetApplicationName("SegmentPortal")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(paths.DataDirectory, "keys")));

        services.AddSegmentPortalCore();
        services.AddMetadataStore(configuration, paths);
        services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        services.AddSingleton<SegmentPortal.Core.Delivery.IWebhookSigner, StandardWebhookSigner>();

        services.AddRazorComponents()
            .AddInteractiveServerComponents(o => o.DetailedErrors = isDevelopment);
        services.AddMudServices();
        services.AddHttpContextAccessor();

        AddIdentity(services, configuration);
        services.AddApiV1();
        services.AddScoped<ICurrentUser, CurrentUser>();
        services.AddScoped<UiFeedback>();
        services.AddScoped<BrowserFiles>();
        services.AddOptions<ExportOptions>().BindConfiguration("Export");
        services.AddSingleton<PrintTickets>();
        services.AddSingleton<BoardSnapshots>();
        // Board subscriptions render through the same browser, signed in as each recipient.
        services.AddSingleton<SegmentPortal.Core.Subscriptions.IBoardRenderer, SubscriptionBoardRenderer>();
        return builder;
    }

    private static void AddIdentity(IServiceCollection services, IConfiguration configuration)
    {
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
        services.AddSingleton(auth);

        // The default scheme picks, per request, a personal access token (REST API calls with a Bearer header) or the
        // Identity cookie (everything else).
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = ApiAuthentication.PolicyScheme;
                o.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddAccessTokens()
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = SignInPath;
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/status/403";
            o.Cookie.Name = "SegmentPortal.Auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.Events.OnRedirectToAccessDenied = ctx =>
            {
                // A real 403, not a redirect; the status-code page explains it to people.
                ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToLogin = ctx =>
            {
                if (ctx.Request.Path.StartsWithSegments("/api"))
                {
                    ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                }
                else
                {
                    ctx.Response.Redirect(ctx.RedirectUri);
                }
                return Task.CompletedTask;
            };
        });
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromSeconds(auth.RevalidationSeconds));

        services.AddIdentityCore<AppUser>(o =>
            {
                o.SignIn.RequireConfirmedAccount = true; // "confirmed" means "not disabled", see EnabledUserConfirmation
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 10;
                o.Password.RequireNonAlphanumeric = false;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = auth.MaxFailedSignIns;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(auth.LockoutMinutes);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddAuthorizationBuilder().AddSegmentPortalPolicies().AddApiScopePolicies();
        services.AddSingleton(sp => new SignInThrottle(sp.GetRequiredService<TimeProvider>(), Math.Max(1, auth.MaxFailedSignInsPerClient),
            TimeSpan.FromMinutes(Math.Max(1, auth.LockoutMinutes))));
        AddRateLimits(services, auth, configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new());
    }

    /// <summary>
    /// Posts of the sign-in form are limited per client address (<see cref="AuthOptions.SignInAttemptsPerMinute"/>), so
    /// account lockout cannot be used to lock accounts at will and passwords cannot be guessed quickly. REST API requests
    /// are limited per token (or signed-in user, or address without either; <see cref="ApiOptions.RequestsPerMinute"/>).
    /// Nothing else is limited.
    /// </summary>
    private static void AddRateLimits(IServiceCollection services, AuthOptions auth, ApiOptions api)
    {
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                HttpMethods.IsPost(http.Request.Method) && http.Request.Path.Equals(SignInPath, StringComparison.OrdinalIgnoreCase)
                    ? RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = Math.Max(1, auth.SignInAttemptsPerMinute),
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    })
                    : ApiV1.IsApi(http.Request.Path) ? ApiProblems.RatePartition(http, api)
                    : RateLimitPartition.GetNoLimiter("unlimited"));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                if (ApiV1.IsApi(http.Request.Path))
                {
                    await ApiProblems.RejectAsync(context, cancellationToken);
                    return;
                }
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SegmentPortal.SignIn")
                    .LogWarning("Sign-in attempts from {Address} refused: more than {Limit} a minute", http.Connection.RemoteIpAddress, auth.SignInAttemptsPerMinute);
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = "60";
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync("Too many sign-in attempts from this address. Wait a minute, then try again.", cancellationToken);
            };
        });
    }

    private const string SignInPath = "/account/login";

    /// <summary>One policy per named permission, granted to the roles Core says.</summary>
    public static AuthorizationBuilder AddSegmentPortalPolicies(this AuthorizationBuilder authorization)
    {
        foreach (var permission in Permissions.All)
        {
            authorization.AddPolicy(permission, p => p.RequireRole(Permissions.RolesGranted(permission)));
        }
        return authorization;
    }

    /// <summary>
    /// Migrates the metadata store, creates roles and the first admin, opens the warehouse, recovers work a stopped
    /// process left unfinished. Logs and rethrows.
    /// </summary>
    public static async Task InitializeSegmentPortalAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SegmentPortal.Startup");
        try
        {
            await using (var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            {
                await db.Database.MigrateAsync();
            }
            await using (var scope = app.Services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<AdminBootstrapper>().EnsureAdminAsync(app.Environment.IsDevelopment());
            }
            app.Services.GetRequiredService<DuckDbWarehouse>();
            // Before any job or scheduled refresh starts: put right what a stopped process left unfinished.
            await app.Services.GetRequiredService<SegmentPortal.Core.Jobs.JobRecovery>().RecoverAsync();
            logger.LogInformation("Data folder: {DataDirectory}", app.Services.GetRequiredService<StoragePaths>().DataDirectory);
            logger.LogInformation("SQLite connections may read files in {SqliteFolder}", app.Services.GetRequiredService<SqliteSourceFolder>().FolderPath);
        }
        catch (Exception ex)
        {
            logger.LogCritical(ex, "SegmentPortal could not start: {Message}", ex.Message);
            throw;
        }
    }

    public static WebApplication UseSegmentPortal(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/status/500", createScopeForErrors: true);
            app.UseHsts();
        }
        app.UseStatusCodePagesWithReExecute("/status/{0}", createScopeForStatusCodePages: true);
        app.Use((http, next) =>
        {
            // API callers get the bare status code. (Re-executing a POST on a status page would also run the page's
            // antiforgery check and turn a 401 or 403 into a 400.)
            if (http.Request.Path.StartsWithSegments("/api") && http.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
            {
                statusPages.Enabled = false;
            }
            return next(http);
        });
        app.UseApiProblems();
        app.UseAntiforgery();
        // Authentication before the rate limiter, so API requests are counted per token.
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapStaticAssets();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode();
        app.MapAccountEndpoints();
        app.MapPrintEndpoint();
        app.MapAdminApi();
        app.MapUploadApi();
        app.MapSegmentExports();
        app.MapApiV1();
        return app;
    }
}
