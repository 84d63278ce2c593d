using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Web.Tests.Components.Segments;

/// <summary>
/// Drives the rule builder the way a user does — menus, selects, the field autocomplete, typing, drag and drop — and
/// reads back what it shows, as an outline of the tree that can be compared with the rule model's.
/// </summary>
/// <remarks>
/// Every step finds its element again (a <see cref="Func{IElement}"/>), and is retried if the element was re-rendered
/// between being found and being acted on: MudBlazor components re-render themselves after their first render, and on
/// the editor page the debounced live count re-renders the builder while the test goes on, so the event handler id read
/// from the markup can be gone by the time the event is dispatched. A user always acts on what is on screen.
/// </remarks>
internal static class BuilderDriver
{
    public const string Group = "[data-testid=rule-group]";
    public const string Condition = "[data-testid=rule-condition]";

    /// <summary>Every group element, the root first, in document order.</summary>
    public static IReadOnlyList<IElement> Groups<T>(this IRenderedComponent<T> cut) where T : IComponent => cut.FindAll(Group);

    /// <summary>Every condition element in document order.</summary>
    public static IReadOnlyList<IElement> Conditions<T>(this IRenderedComponent<T> cut) where T : IComponent => cut.FindAll(Condition);

    /// <summary>The one condition whose field (or fact) reads <paramref name="field"/>; "?" for one without a field.</summary>
    public static IElement ConditionFor<T>(this IRenderedComponent<T> cut, string field) where T : IComponent =>
        Assert.Single(cut.Conditions(), c => Label(c) == field);

    /// <summary>
    /// The tree as the markup shows it, e.g. <c>AND[region, NOT OR[vip, ?]]</c>: each group's selected combinator and NOT
    /// switch, and each condition's field ("?" when none is chosen yet), nested as the elements are.
    /// </summary>
    public static string Outline<T>(this IRenderedComponent<T> cut) where T : IComponent => Outline(cut.Groups()[0]);

    /// <summary>The same outline, from the rule model.</summary>
    public static string Outline(RuleNode node) => node switch
    {
        RuleGroup g => $"{(g.Not ? "NOT " : "")}{g.Combinator.ToString().ToUpperInvariant()}[{string.Join(", ", g.Children.Select(Outline))}]",
        FieldCondition f => f.Field.Length == 0 ? "?" : f.Field,
        FactCondition f => RuleOperators.FactLabel(f.Fact),
        SegmentCondition s => $"segment {s.SegmentId}",
        _ => node.GetType().Name,
    };

    private static string Outline(IElement group)
    {
        var header = Header(group);
        var combinator = header.QuerySelector("[data-testid=combinator] [aria-checked=true]")!.TextContent.Trim() switch
        {
            "All of (AND)" => "AND",
            "Any of (OR)" => "OR",
            var other => other,
        };
        var not = header.QuerySelector("[data-testid=group-not]")!.GetAttribute("aria-checked") == "true" ? "NOT " : "";
        var children = group.Children.Where(c => c.Matches(Group) || c.Matches(Condition))
            .Select(c => c.Matches(Group) ? Outline(c) : Label(c));
        return $"{not}{combinator}[{string.Join(", ", children)}]";
    }

    /// <summary>What a condition element is about: its field ("?" for none), its order fact, or "segment".</summary>
    public static string Label(IElement condition)
    {
        if (condition.QuerySelector("[data-testid=condition-field]") is { } field)
        {
            return field.GetAttribute("value") is { Length: > 0 } name ? name : "?";
        }
        if (condition.QuerySelector("[data-testid=condition-fact]") is { } fact)
        {
            return fact.TextContent.Trim();
        }
        return "segment";
    }

    /// <summary>A group's own header (not the headers of groups nested in it).</summary>
    public static IElement Header(IElement group) => group.Children.Single(c => c.ClassList.Contains("rule-group-header"));

    /// <summary>The drop lines between a group's own children: the n-th sits just before the n-th child.</summary>
    public static IReadOnlyList<IElement> DropLines(IElement group) => group.Children.Where(c => c.ClassList.Contains("rule-drop-line")).ToList();

    /// <summary>A condition's field autocomplete input.</summary>
    public static IElement FieldInput(IElement condition) => condition.QuerySelector("[data-testid=condition-field]")!;

    /// <summary>The button labelled <paramref name="ariaLabel"/> among a condition's or a group's own actions.</summary>
    public static IElement Action(IElement node, string ariaLabel) =>
        (node.Matches(Group) ? Header(node) : node).QuerySelector($"[aria-label='{ariaLabel}']")
        ?? throw new InvalidOperationException($"No “{ariaLabel}” button here.");

    public static Task ClickAsync(Func<IElement> element) => DispatchAsync(element, "onclick", new MouseEventArgs());

    public static Task InputAsync(Func<IElement> element, string text) => DispatchAsync(element, "oninput", new ChangeEventArgs { Value = text });

    public static Task ChangeAsync(Func<IElement> element, object value) => DispatchAsync(element, "onchange", new ChangeEventArgs { Value = value });

    /// <summary>Clicks the button labelled <paramref name="ariaLabel"/> in a condition's or a group's own actions.</summary>
    public static Task ClickActionAsync(Func<IElement> node, string ariaLabel) => ClickAsync(() => Action(node(), ariaLabel));

    /// <summary>Starts dragging <paramref name="source"/> and drops it on <paramref name="target"/> (a group or a drop line).</summary>
    public static async Task DragAsync(Func<IElement> source, Func<IElement> target)
    {
        await DispatchAsync(source, "ondragstart", new DragEventArgs());
        await DispatchAsync(target, "ondrop", new DragEventArgs());
    }

    /// <summary>The text of each option an open select, autocomplete or menu offers.</summary>
    public static IReadOnlyList<string> Options<T>(this IRenderedComponent<T> cut, IElement control) where T : IComponent =>
        PopoverOf(cut, control).QuerySelectorAll(".mud-list-item").Select(i => i.TextContent.Trim()).ToList();

    /// <summary>Opens the MudSelect that <paramref name="part"/> belongs to and waits for its options.</summary>
    public static async Task OpenSelectAsync<T>(this IRenderedComponent<T> cut, Func<IElement> part) where T : IComponent
    {
        await DispatchAsync(() => part().Closest(".mud-input-control")!, "onmousedown", new MouseEventArgs());
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.Options(part())));
    }

    /// <summary>Opens the select and picks the option that reads <paramref name="option"/>.</summary>
    public static async Task ChooseAsync<T>(this IRenderedComponent<T> cut, Func<IElement> part, string option) where T : IComponent
    {
        await cut.OpenSelectAsync(part);
        await cut.PickOptionAsync(part, option);
    }

    /// <summary>Clicks an option of an open select (a multi-select stays open for the next pick).</summary>
    public static Task PickOptionAsync<T>(this IRenderedComponent<T> cut, Func<IElement> part, string option) where T : IComponent =>
        ClickAsync(() =>
        {
            var item = PopoverOf(cut, part()).QuerySelectorAll(".mud-list-item").SingleOrDefault(i => i.TextContent.Trim() == option);
            Assert.True(item is not null, $"No option “{option}” in [{string.Join("|", cut.Options(part()))}]");
            return item;
        });

    /// <summary>Types into a condition's field autocomplete and picks the field <paramref name="field"/> from the suggestions.</summary>
    public static async Task ChooseFieldAsync<T>(this IRenderedComponent<T> cut, Func<IElement> condition, string typed, string field) where T : IComponent
    {
        IElement Input() => FieldInput(condition());
        IEnumerable<(string Name, IElement Item)> Suggestions() =>
            PopoverOf(cut, Input()).QuerySelectorAll(".mud-list-item").Select(i => (i.QuerySelector("span")?.TextContent.Trim() ?? "", i));

        await InputAsync(Input, typed);
        cut.WaitForAssertion(() => Assert.Contains(Suggestions(), s => s.Name == field));
        await ClickAsync(() => Suggestions().Single(s => s.Name == field).Item);
        // The autocomplete applies the choice asynchronously, then closes its list.
        cut.WaitForAssertion(() =>
        {
            Assert.Equal(field, Input().GetAttribute("value"));
            Assert.Empty(cut.Options(Input()));
        });
    }

    /// <summary>Opens a condition's field autocomplete without typing and returns its suggestions (field and group caption).</summary>
    public static async Task<IReadOnlyList<string>> FieldSuggestionsAsync<T>(this IRenderedComponent<T> cut, Func<IElement> condition) where T : IComponent
    {
        await DispatchAsync(() => FieldInput(condition()).Closest(".mud-input-control")!, "onmousedown", new MouseEventArgs());
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.Options(FieldInput(condition()))));
        return cut.Options(FieldInput(condition()));
    }

    /// <summary>Opens a group's "Add condition" menu and clicks the item <paramref name="itemTestId"/>.</summary>
    public static async Task AddFromMenuAsync<T>(this IRenderedComponent<T> cut, Func<IElement> group, string itemTestId) where T : IComponent
    {
        IElement Item() => PopoverOf(cut, AddMenu(group())).QuerySelector($"[data-testid={itemTestId}]")!;
        await ClickAsync(() => AddMenu(group()).QuerySelector("button")!);
        cut.WaitForAssertion(() => Assert.NotNull(Item()));
        await ClickAsync(Item);
    }

    /// <summary>Opens a group's "Add condition" menu and returns its items as (text, disabled).</summary>
    public static async Task<IReadOnlyList<(string Text, bool Disabled)>> AddMenuItemsAsync<T>(this IRenderedComponent<T> cut, Func<IElement> group)
        where T : IComponent
    {
        await ClickAsync(() => AddMenu(group()).QuerySelector("button")!);
        cut.WaitForAssertion(() => Assert.NotEmpty(PopoverOf(cut, AddMenu(group())).QuerySelectorAll("[role=menuitem]")));
        return PopoverOf(cut, AddMenu(group())).QuerySelectorAll("[role=menuitem]")
            .Select(i => (i.TextContent.Trim(), i.GetAttribute("aria-disabled") == "true")).ToList();
    }

    private static IElement AddMenu(IElement group) => Header(group).QuerySelector("[data-testid=add-condition]")!;

    /// <summary>Dispatches an event to the element as it is now, finding it again if it was re-rendered meanwhile.</summary>
    private static async Task DispatchAsync(Func<IElement> element, string eventName, EventArgs args)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await element().TriggerEventAsync(eventName, args);
                return;
            }
            catch (UnknownEventHandlerIdException) when (attempt < 20)
            {
                // Re-rendered between finding and dispatching: find it again.
            }
        }
    }

    /// <summary>The popover a MudBlazor select, autocomplete or menu draws its list into (inside the popover provider).</summary>
    private static IElement PopoverOf<T>(IRenderedComponent<T> cut, IElement part) where T : IComponent
    {
        var owner = part.Matches(".mud-menu") ? part : part.Closest(".mud-input-control")!;
        var anchor = owner.QuerySelector(".mud-popover-cascading-value")!;
        return cut.Find("#popovercontent-" + anchor.Id!["popover-".Length..]);
    }
}
