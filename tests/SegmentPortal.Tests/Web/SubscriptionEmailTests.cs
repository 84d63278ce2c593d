using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Subscriptions;
using SegmentPortal.Tests.Delivery;
using SegmentPortal.Tests.Infrastructure;
using UglyToad.PdfPig;

namespace SegmentPortal.Tests.Web;

/// <summary>
/// The proof of board subscriptions: the real app on a port, its own Chromium rendering the board signed in as each
/// recipient, the outbox worker sending over SMTP to a real SMTP server. A Viewer whose row rule is Region = North gets
/// a PNG inline and a PDF attached whose figures are North's only; the Admin's copy of the same board shows every region.
/// </summary>
public sealed class SubscriptionEmailTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    // Each region's revenue is a number no other figure on the board can be.
    private const string Sales =
        "order_id,region,amount\n" +
        "1,North,4000\n" +
        "2,North,321\n" +
        "3,South,8000\n" +
        "4,South,765\n" +
        "5,East,1234\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task A_Viewer_limited_to_North_receives_the_board_as_PNG_inline_and_PDF_attached_showing_North_only()
    {
        Assert.False(IsCi && !File.Exists(ChromiumPath), $"CI=true but no Chromium at {ChromiumPath}. Install it: apt-get install -y chromium");
        Assert.SkipUnless(File.Exists(ChromiumPath), $"No Chromium at {ChromiumPath} (install Debian's chromium package to render boards).");
        await using var smtp = TestSmtpServer.Start();
        await using var portal = new PortalFactory(settings: new Dictionary<string, string?>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:Tls"] = "None",
            ["Smtp:From"] = "Portal <portal@example.com>",
        });
        await using var factory = portal.WithWebHostBuilder(_ => { });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var services = factory.Services;

        string adminId;
        await using (var scope = services.CreateAsyncScope())
        {
            adminId = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(PortalFactory.AdminEmail))!.Id;
        }
        var admin = CoreHarness.Principal(adminId, PortalFactory.AdminEmail, [Roles.Admin]);
        async Task<T> As<TService, T>(Func<TService, Task<T>> action) where TService : notnull
        {
            await using var scope = services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ScopedPrincipal>().Principal = admin;
            return await action(scope.ServiceProvider.GetRequiredService<TService>());
        }
        Task Do<TService>(Func<TService, Task> action) where TService : notnull => As<TService, bool>(async s => { await action(s); return true; });

        // The sales data, readable by Viewers, who see North's rows only.
        var upload = await services.GetRequiredService<UploadStore>().SaveAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Sales)), "sales.csv", adminId, null, Ct);
        await Do<DatasetImportRunner>(r => r.RunAsync(admin, [upload], new FileImportRequest([upload.Id]), new Progress<JobProgress>(), Ct));
        int salesId;
        await using (var db = await services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            salesId = (await db.Datasets.AsNoTracking().SingleAsync(d => d.Name.StartsWith("sales"), Ct)).Id;
        }
        // (Through this host's services: the factory's own would start a second app on the same data folder.)
        var viewer = new AppUser { UserName = "vera@example.com", Email = "vera@example.com", DisplayName = "Vera", EmailConfirmed = true };
        await using (var scope = services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.True((await users.CreateAsync(viewer, "Correct-horse-9")).Succeeded);
            Assert.True((await users.AddToRoleAsync(viewer, Roles.Viewer)).Succeeded);
        }
        await Do<DatasetSharing>(s => s.SetAsync(salesId, [Roles.Viewer], [], Ct));
        await As<DataPermissionService, int>(s => s.SaveRowRuleAsync(salesId, null, null, viewer.Id,
            new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = "North" }] }, Ct));

        // A board with the total and revenue by region, shared with the Viewer.
        var boardId = await As<DashboardService, int>(s => s.CreateAsync("Regional revenue", null, Ct));
        await As<DashboardService, DashboardView>(s => s.AddTileAsync(boardId, new TileDefinition
        {
            Id = "",
            Type = TileType.Kpi,
            Title = "Total revenue",
            DatasetId = salesId,
            Measures = [new TileMeasure(TileMeasureKind.Sum, "amount")],
        }, cancellationToken: Ct));
        await As<DashboardService, DashboardView>(s => s.AddTileAsync(boardId, new TileDefinition
        {
            Id = "",
            Type = TileType.Table,
            Title = "Revenue by region",
            DatasetId = salesId,
            Dimensions = [new TileDimension("region")],
            Measures = [new TileMeasure(TileMeasureKind.Sum, "amount")],
        }, cancellationToken: Ct));
        await Do<SharingService>(s => s.ShareAsync(SharedItem.Dashboard, boardId, viewer.Id, null, ShareLevel.Viewer, Ct));

        // The Admin subscribes the Viewer and themselves; the schedule's time has come.
        var daily = new CheckSchedule { Frequency = ScheduleFrequency.Daily, At = new TimeOnly(8, 0) };
        await As<SubscriptionService, int>(s => s.CreateAsync(new SubscriptionDraft { Target = SubscriptionTarget.Dashboard, ItemId = boardId, Schedule = daily, UserId = viewer.Id }, Ct));
        await As<SubscriptionService, int>(s => s.CreateAsync(new SubscriptionDraft { Target = SubscriptionTarget.Dashboard, ItemId = boardId, Schedule = daily }, Ct));
        await using (var db = await services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            foreach (var subscription in await db.Subscriptions.ToListAsync(Ct))
            {
                subscription.NextRunAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            }
            await db.SaveChangesAsync(Ct);
        }
        var runner = services.GetRequiredService<SubscriptionRunner>();
        await runner.MakeDueAsync(Ct);
        await runner.RunDueAsync(Ct);
        await smtp.WaitForAsync(2, Ct);

        var received = smtp.Received.Select(r => r.Message).ToList();
        var toViewer = received.Single(m => m.To.Mailboxes.Single().Address == "vera@example.com");
        var toAdmin = received.Single(m => m.To.Mailboxes.Single().Address == PortalFactory.AdminEmail);

        // The PNG is shown inside the HTML (a related part whose Content-ID the HTML refers to), the PDF is attached.
        var png = toViewer.BodyParts.OfType<MimePart>().Single(p => p.ContentType.MimeType == "image/png");
        Assert.Equal(SubscriptionEmails.BoardImageId, png.ContentId);
        Assert.Contains($"cid:{SubscriptionEmails.BoardImageId}", toViewer.HtmlBody ?? "");
        Assert.False(png.IsAttachment);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], Content(png)[..4]);
        var pdf = toViewer.Attachments.OfType<MimePart>().Single();
        Assert.Equal("application/pdf", pdf.ContentType.MimeType);
        Assert.Contains($"/dashboards/{boardId}", toViewer.HtmlBody ?? "");

        // The Viewer's figures are North's: its revenue, and neither the whole total nor another region's.
        var viewerText = PdfText(Content(pdf));
        Assert.Contains("Revenue by region", viewerText);
        Assert.True(HasNumber(viewerText, 4321), "North's revenue (4,321) is not in the Viewer's PDF:\n" + viewerText);
        Assert.False(HasNumber(viewerText, 14320), "The total of all regions is in the Viewer's PDF:\n" + viewerText);
        Assert.False(HasNumber(viewerText, 8765), "South's revenue is in the Viewer's PDF:\n" + viewerText);
        Assert.False(HasNumber(viewerText, 1234), "East's revenue is in the Viewer's PDF:\n" + viewerText);
        Assert.DoesNotContain("South", viewerText);
        Assert.DoesNotContain("East", viewerText);

        // The same board rendered for the Admin shows everything: the figures are in the file, so their absence above means something.
        var adminText = PdfText(Content(toAdmin.Attachments.OfType<MimePart>().Single()));
        Assert.True(HasNumber(adminText, 14320), "The Admin's PDF lacks the total:\n" + adminText);
        Assert.True(HasNumber(adminText, 8765), "The Admin's PDF lacks South:\n" + adminText);
        Assert.Contains("South", adminText);
    }

    private static byte[] Content(MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }

    private static bool HasNumber(string text, long value) =>
        text.Contains(value.ToString("N0", CultureInfo.InvariantCulture), StringComparison.Ordinal)
        || text.Contains(value.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static string PdfText(byte[] pdf)
    {
        using var document = PdfDocument.Open(pdf);
        return string.Join("\n", document.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text))));
    }
}
