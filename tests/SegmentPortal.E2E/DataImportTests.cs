using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SegmentPortal.TestData;
using static Microsoft.Playwright.Assertions;

namespace SegmentPortal.E2E;

public sealed class DataImportTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static string RetailCsv =>
        TestDatasets.Path(TestDatasets.OnlineRetail);

    [Fact]
    public async Task Analyst_drops_the_online_retail_file_sets_roles_and_sees_the_profile()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);

        await DropFilesAsync(page, page.Locator("[data-testid=drop-zone][data-ready=true]"), RetailCsv);
        await Expect(page.GetByTestId("upload-list")).ToContainTextAsync("Uploaded, ready to import", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "20-uploaded");
        await page.GetByTestId("start-import").ClickAsync();
        await Expect(page.GetByTestId("job-list")).ToContainTextAsync("online-retail: 541,909 rows imported", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "21-imported");

        await page.GetByRole(AriaRole.Link, new() { Name = "online-retail", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync("541,909");
        await Pages.WaitUntilInteractiveAsync(page);

        // Roles: drag the customer column onto "Customer ID"; the rest by the keyboard-friendly selects.
        await DragAsync(page, page.GetByTestId("chip-CustomerID"), page.GetByTestId("role-customer"));
        await Expect(page.GetByTestId("role-customer")).ToContainTextAsync("CustomerID");
        await SelectAsync(page, "Type of CustomerID", "Integer");
        await SelectAsync(page, "Role of InvoiceDate", "Order / event date");
        await SelectAsync(page, "Role of UnitPrice", "Amount");
        await SelectAsync(page, "Role of Quantity", "Quantity");
        await SelectAsync(page, "Role of InvoiceNo", "Order / invoice number");
        await Expect(page.GetByTestId("role-order")).ToContainTextAsync("InvoiceNo");
        await BrowserFixture.ScreenshotAsync(page, "22-roles");
        await page.GetByTestId("save-columns").ClickAsync();
        await Expect(page.GetByTestId("dataset-kind")).ToContainTextAsync("Transactions", new() { Timeout = BrowserFixture.WorkTimeoutMs });

        await page.GetByRole(AriaRole.Tab, new() { Name = "Profile" }).ClickAsync();
        var customer = page.GetByTestId("column-profile").Filter(new() { HasText = "CustomerID" });
        await Expect(customer).ToContainTextAsync("Integer", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(customer).ToContainTextAsync("Missing 135,080 of 541,909 (24.9%)");
        await Expect(page.GetByTestId("column-profile").Filter(new() { HasText = "InvoiceDate" }).Locator(".js-plotly-plot")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "23-profile");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Preview" }).ClickAsync();
        await Expect(page.GetByTestId("preview-grid")).ToContainTextAsync("WHITE HANGING HEART T-LIGHT HOLDER");
        await BrowserFixture.ScreenshotAsync(page, "24-preview");

        // Cleaning: each step shows what it affects before it is applied.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Cleaning" }).ClickAsync();
        await SelectAsync(page, "Add a step", "Handle empty values");
        await page.GetByTestId("step-column").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "CustomerID", Exact = true }).ClickAsync();
        await page.GetByTestId("add-step-button").ClickAsync();
        await Expect(page.GetByTestId("step-effect")).ToHaveTextAsync("135,080 rows removed (406,829 left)", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await BrowserFixture.ScreenshotAsync(page, "26-cleaning");
        await page.GetByTestId("apply-recipe").ClickAsync();
        await Expect(page.GetByTestId("dataset-rows")).ToContainTextAsync("406,829", new() { Timeout = BrowserFixture.WorkTimeoutMs });

        // RFM on the file: Frequency counts distinct invoices (not invoice lines), Monetary defaults to quantity × price.
        await page.GotoAsync("/analysis/rfm");
        await Pages.WaitUntilInteractiveAsync(page);
        await Pages.ChooseAsync(page, page.GetByTestId("rfm-dataset"), "online-retail");
        await Expect(page.GetByTestId("rfm-frequency-counts")).ToContainTextAsync("Frequency counts distinct InvoiceNo values", new() { Timeout = BrowserFixture.WorkTimeoutMs });
        await Expect(page.GetByTestId("rfm-monetary")).ToContainTextAsync("Quantity × UnitPrice");
        await BrowserFixture.ScreenshotAsync(page, "27-rfm-online-retail");
    }

    [Fact]
    public async Task A_bad_file_is_refused_with_the_line_and_nothing_is_created()
    {
        var page = await browser.NewPageAsync();
        await Pages.SignInAsync(page, AppUnderTest.AdminEmail, AppUnderTest.AdminPassword);
        await page.GotoAsync("/data");
        await Pages.WaitUntilInteractiveAsync(page);
        var file = Path.Combine(Path.GetTempPath(), $"ragged-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, "id,name\n1,Ann\n2\n", TestContext.Current.CancellationToken);
        try
        {
            await page.Locator("[data-testid=drop-zone][data-ready=true]").WaitForAsync();
            await page.GetByTestId("file-input").SetInputFilesAsync(file);
            await page.GetByTestId("start-import").ClickAsync();
            await Expect(page.GetByTestId("job-list")).ToContainTextAsync("line 3: expected 2 values but found 1", new() { Timeout = BrowserFixture.WorkTimeoutMs });
            await BrowserFixture.ScreenshotAsync(page, "25-bad-file");
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = Path.GetFileNameWithoutExtension(file) })).ToHaveCountAsync(0);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A real drop: the file goes into a DataTransfer and a drop event is dispatched on the zone.</summary>
    private static async Task DropFilesAsync(IPage page, ILocator zone, string path)
    {
        await page.EvaluateAsync("() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'e2e-drop-source'; i.hidden = true; document.body.appendChild(i); }");
        await page.Locator("#e2e-drop-source").SetInputFilesAsync(path);
        await zone.EvaluateAsync(@"zone => {
            const files = document.getElementById('e2e-drop-source').files;
            const data = new DataTransfer();
            for (const f of files) data.items.add(f);
            zone.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
            document.getElementById('e2e-drop-source').remove();
        }");
    }

    /// <summary>
    /// An HTML5 drag at human pace: each step waits for the board to show that the server saw the previous one.
    /// </summary>
    private static async Task DragAsync(IPage page, ILocator item, ILocator target)
    {
        var data = await page.EvaluateHandleAsync("() => new DataTransfer()");
        await item.DispatchEventAsync("dragstart", new { dataTransfer = data });
        await page.Locator(".role-zone-can-drop").First.WaitForAsync();
        await target.DispatchEventAsync("dragenter", new { dataTransfer = data });
        await target.DispatchEventAsync("dragover", new { dataTransfer = data });
        await target.DispatchEventAsync("drop", new { dataTransfer = data });
        await Expect(target).ToContainTextAsync(await item.InnerTextAsync());
        await item.DispatchEventAsync("dragend", new { dataTransfer = data });
    }

    private static async Task SelectAsync(IPage page, string label, string option)
    {
        await page.GetByLabel(label).ClickAsync();
        var choice = page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true });
        await choice.ClickAsync();
        // The list closes after the click; the next select's click must not land on it while it fades.
        await Expect(page.Locator(".mud-popover-open [role=option]")).ToHaveCountAsync(0);
    }
}
