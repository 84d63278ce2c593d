using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class DataPermissionsTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string ViewerPassword = "Viewer-pass-2468";

    [Fact]
    public async Task Admin_restricts_a_Viewer_to_their_region_masks_email_and_shares_a_board_the_Viewer_sees_and_exports_North_only()
    {
        var admin = await Pages.SignInWithDemoDataAsync(browser);

        // A Viewer in region North.
        await admin.GotoAsync("/admin/users");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-user").ClickAsync();
        var email = $"vera-{Guid.NewGuid():N}"[..13] + "@e2e.local";
        await Pages.FillNewUserAsync(admin, email, "Vera North", ViewerPassword);
        await admin.GetByTestId("create-user").ClickAsync();
        var row = admin.GetByRole(AriaRole.Row).Filter(new() { HasText = email });
        await Expect(row).ToContainTextAsync("Viewer");
        await row.GetByRole(AriaRole.Button).ClickAsync();
        await admin.GetByTestId("user-attributes").ClickAsync();
        await admin.GetByTestId("add-attribute").ClickAsync();
        await admin.GetByTestId("attribute-name").FillAsync("Region");
        await admin.GetByTestId("attribute-value").FillAsync("North");
        await admin.GetByTestId("attributes-save").ClickAsync();
        await Expect(admin.GetByText($"Attributes of {email} saved.")).ToBeVisibleAsync();

        // Region = user.Region for Viewers on the orders (and on the customers the table shows); e-mail masked for Viewers.
        await admin.GotoAsync("/admin/permissions");
        await Pages.WaitUntilInteractiveAsync(admin);
        foreach (var dataset in new[] { "Demo orders", "Demo customers" })
        {
            await Pages.ChooseAsync(admin, admin.GetByTestId("permissions-dataset"), dataset);
            await admin.GetByRole(AriaRole.Tab, new() { Name = "Row rules" }).ClickAsync();
            await admin.GetByTestId("add-row-rule").ClickAsync();
            var dialog = admin.GetByRole(AriaRole.Dialog);
            await Pages.ChooseAsync(admin, dialog.GetByTestId("row-rule-applies-to"), "Everyone with the Viewer role");
            await dialog.GetByTestId("add-condition").First.ClickAsync();
            await admin.GetByTestId("add-field-condition").ClickAsync();
            await dialog.GetByTestId("condition-field").FillAsync("region");
            await admin.GetByRole(AriaRole.Option).Filter(new() { HasText = "region" }).First.ClickAsync();
            await dialog.GetByTestId("user-attribute").ClickAsync();
            await admin.GetByRole(AriaRole.Menuitem).Filter(new() { HasText = "Region of the signed-in user" }).ClickAsync();
            await Expect(dialog.GetByTestId("row-rule-summary")).ToContainTextAsync("{user.Region}");
            if (dataset == "Demo orders")
            {
                await BrowserFixture.ScreenshotAsync(admin, "70-row-rule");
            }
            await dialog.GetByTestId("row-rule-save").ClickAsync();
            await Expect(admin.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);
            await Expect(admin.GetByTestId("row-rule")).ToContainTextAsync("Viewer");
        }
        await admin.GetByRole(AriaRole.Tab, new() { Name = "Columns" }).ClickAsync();
        await Pages.ChooseAsync(admin, admin.GetByTestId("treatment-email-Viewer"), "Masked");
        await Expect(admin.GetByTestId("treatment-email-Viewer")).ToContainTextAsync("Masked");
        await BrowserFixture.ScreenshotAsync(admin, "71-column-rules");

        // A board with revenue by region and a table of customers' e-mails, shared with the Viewer.
        var name = $"Regional sales {Guid.NewGuid():N}"[..23];
        await admin.GotoAsync("/dashboards");
        await Pages.WaitUntilInteractiveAsync(admin);
        await admin.GetByTestId("new-dashboard-name").FillAsync(name);
        await admin.GetByTestId("new-dashboard").ClickAsync();
        await Expect(admin).ToHaveURLAsync(new Regex("/dashboards/\\d+\\?edit=1$"));
        await Pages.WaitUntilInteractiveAsync(admin);
        var address = new Uri(admin.Url).AbsolutePath;
        await DashboardTests.AddTileAsync(admin, "Revenue by region", "Table", "Demo orders", measure: ("Sum", "amount"), dimension: "region");
        await DashboardTests.AddTileAsync(admin, "Customer e-mails", "Table", "Demo customers", measure: ("Customers", null), dimension: "region",
            secondDimension: "email");
        await Expect(admin.GetByTestId("tile-loading")).ToHaveCountAsync(0, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var revenue = Tile(admin, "Revenue by region").GetByTestId("tile-table").Locator("tbody tr");
        await Expect(revenue).Not.ToHaveCountAsync(1);
        var northForAdmin = (await revenue.Filter(new() { HasText = "North" }).InnerTextAsync()).Trim();
        // The Admin (exempt by the default setting) sees whole addresses.
        await Expect(Tile(admin, "Customer e-mails").GetByTestId("tile-table").Locator("tbody")).ToContainTextAsync(new Regex(@"[a-z]{2,}\.[a-z]+\d*@"));

        await admin.GetByTestId("dashboard-share").ClickAsync();
        await Pages.ChooseAsync(admin, admin.GetByTestId("share-who"), email);
        await admin.GetByTestId("share-add").ClickAsync();
        await Expect(admin.GetByTestId("share-list")).ToContainTextAsync(email);

        // The Viewer: North only, the same North figure the Admin sees, masked e-mails, and a CSV export of the same rows.
        var viewer = await browser.NewPageAsync();
        await Pages.SignInAsync(viewer, email, ViewerPassword);
        await viewer.GotoAsync(address);
        await Pages.WaitUntilInteractiveAsync(viewer);
        await Expect(viewer.GetByTestId("tile-loading")).ToHaveCountAsync(0, new() { Timeout = BrowserFixture.WorkTimeoutMs });
        var viewerRevenue = Tile(viewer, "Revenue by region").GetByTestId("tile-table").Locator("tbody tr");
        await Expect(viewerRevenue).ToHaveCountAsync(1);
        Assert.Equal(northForAdmin, (await viewerRevenue.InnerTextAsync()).Trim());

        var people = Tile(viewer, "Customer e-mails");
        var peopleRows = people.GetByTestId("tile-table").Locator("tbody tr");
        await Expect(peopleRows.First).ToBeVisibleAsync();
        var shown = (await peopleRows.AllInnerTextsAsync()).Select(Cells).ToList();
        Assert.All(shown, cells => Assert.Equal("North", cells[0]));
        Assert.All(shown, cells => Assert.Matches(@"^[^@*]\*\*\*@", cells[1]));
        await BrowserFixture.ScreenshotAsync(viewer, "72-viewer-board");

        await people.GetByTestId("tile-menu").ClickAsync();
        var csv = await viewer.RunAndWaitForDownloadAsync(() => viewer.GetByTestId("tile-export-csv").ClickAsync());
        var file = Path.Combine(Path.GetTempPath(), $"viewer-{Guid.NewGuid():N}.csv");
        await csv.SaveAsAsync(file);
        var lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        File.Delete(file);
        Assert.StartsWith("region,email,", lines[0].TrimStart('\uFEFF'));
        // The export holds every row the tile holds (the table shows them ten to a page): the rows on screen and the rest, all North, all masked.
        var exported = lines.Skip(1).Select(l => l.Split(',')).ToList();
        var pageInfo = await people.GetByTestId("tile-page-info").InnerTextAsync();
        Assert.Equal(int.Parse(pageInfo[(pageInfo.LastIndexOf(' ') + 1)..].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture), exported.Count);
        Assert.Subset(exported.Select(c => (c[0], c[1])).ToHashSet(), shown.Select(c => (c[0], c[1])).ToHashSet());
        Assert.All(exported, cells => Assert.Equal("North", cells[0]));
        Assert.All(exported, cells => Assert.Matches(@"^[^@*]\*\*\*@", cells[1]));
    }

    private static ILocator Tile(IPage page, string title) =>
        page.GetByTestId("dashboard-tile").Filter(new() { Has = page.GetByTestId("tile-title").Filter(new() { HasText = title }) });

    private static string[] Cells(string row) => row.Split('\t', StringSplitOptions.TrimEntries);
}
