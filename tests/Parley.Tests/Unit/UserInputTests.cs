using Parley.Cli.ChatClient;

namespace Parley.Tests.Unit;

public sealed class UserInputTests
{
    [Theory]
    [InlineData("Log on", false)]
    [InlineData("log  ON", false)]
    [InlineData("/logon", false)]
    public void Log_on_phrases(string line, bool inChat) => Assert.Equal(new UserInput.LogOn(null), UserInput.Parse(line, inChat));

    [Fact]
    public void Log_on_may_name_the_user() => Assert.Equal(new UserInput.LogOn("alice"), UserInput.Parse("Log on alice", false));

    [Theory]
    [InlineData("Chat bob")]
    [InlineData("chat bob")]
    [InlineData("/chat bob")]
    public void Chat_phrases(string line) => Assert.Equal(new UserInput.StartChat("bob"), UserInput.Parse(line, false));

    [Theory]
    [InlineData("End chat", true)]
    [InlineData("end CHAT", true)]
    [InlineData("/end", true)]
    [InlineData("End chat", false)]
    public void End_chat_phrases(string line, bool inChat) => Assert.IsType<UserInput.EndChat>(UserInput.Parse(line, inChat));

    [Theory]
    [InlineData("Log off", true)]
    [InlineData("/logoff", false)]
    public void Log_off_phrases(string line, bool inChat) => Assert.IsType<UserInput.LogOff>(UserInput.Parse(line, inChat));

    [Fact]
    public void History_phrase() => Assert.Equal(new UserInput.History("bob"), UserInput.Parse("History bob", false));

    [Fact]
    public void During_a_chat_a_plain_line_is_a_message_even_if_it_looks_like_a_command()
    {
        Assert.Equal(new UserInput.Say("Chat bob"), UserInput.Parse("Chat bob", true));
        Assert.Equal(new UserInput.Say("  spaced  "), UserInput.Parse("  spaced  ", true));
    }

    [Fact]
    public void Slash_say_sends_a_line_that_starts_with_a_slash() =>
        Assert.Equal(new UserInput.Say("/shrug ok"), UserInput.Parse("/say /shrug ok", true));

    [Theory]
    [InlineData("hello there")]
    [InlineData("/chat")]
    [InlineData("/frobnicate")]
    public void Other_lines_outside_a_chat_are_unknown(string line) => Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, false));

    [Fact]
    public void Blank_lines_do_nothing() => Assert.IsType<UserInput.Empty>(UserInput.Parse("   ", true));
}
