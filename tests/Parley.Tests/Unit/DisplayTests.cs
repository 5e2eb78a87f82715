using Parley.Cli.ChatClient;

namespace Parley.Tests.Unit;

public sealed class DisplayTests
{
    [Theory]
    [InlineData("\u001b]0;pwned\u0007\u001b[2J\u001b[31mFAKE", "\uFFFD]0;pwned\uFFFD\uFFFD[2J\uFFFD[31mFAKE")]
    [InlineData("line one\nline two\r", "line one\uFFFDline two\uFFFD")]
    [InlineData("\u009b31m C1 CSI", "\uFFFD31m C1 CSI")]
    public void Control_characters_from_the_network_cannot_reach_the_terminal(string received, string shown) =>
        Assert.Equal(shown, Display.Clean(received));

    [Theory]
    [InlineData("Hello Bob")]
    [InlineData("héllo ✓ 你好 🙂")]
    public void Ordinary_text_is_shown_as_it_is(string text) => Assert.Same(text, Display.Clean(text));
}
