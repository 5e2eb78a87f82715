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

    [Theory]
    [InlineData("Sign up")]
    [InlineData("sign  UP")]
    [InlineData("/signup")]
    [InlineData("!signup")]
    [InlineData("!SignUp")]
    public void Sign_up_phrases(string line) => Assert.Equal(new UserInput.SignUp(null, null), UserInput.Parse(line, false));

    [Theory]
    [InlineData("sign up bob")]
    [InlineData("Sign up bob")]
    [InlineData("/signup bob")]
    [InlineData("!signup bob")]
    public void Sign_up_may_name_the_id(string line) => Assert.Equal(new UserInput.SignUp("bob", null), UserInput.Parse(line, false));

    [Theory]
    [InlineData("Sign up bob CODE-1")]
    [InlineData("/signup bob CODE-1")]
    public void Sign_up_may_carry_an_invite_code_as_typed(string line) =>
        Assert.Equal(new UserInput.SignUp("bob", "CODE-1"), UserInput.Parse(line, false));

    [Fact]
    public void The_new_id_keeps_its_letter_case() => Assert.Equal(new UserInput.SignUp("Bob", null), UserInput.Parse("SIGN UP Bob", false));

    [Theory]
    [InlineData("Sign up bob CODE-1 extra")]
    [InlineData("/signup bob CODE-1 extra")]
    public void Sign_up_with_too_many_words_is_unknown(string line) => Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, false));

    [Theory]
    [InlineData("!LIST", false)]
    [InlineData("!list", false)]
    [InlineData("/list", false)]
    [InlineData("/LIST", false)]
    [InlineData("/list", true)]
    public void List_phrases(string line, bool inChat) => Assert.Equal(new UserInput.List(OnlineOnly: false), UserInput.Parse(line, inChat));

    [Theory]
    [InlineData("/list online")]
    [InlineData("!LIST ONLINE")]
    public void List_online_asks_only_for_who_is_online(string line) => Assert.Equal(new UserInput.List(OnlineOnly: true), UserInput.Parse(line, false));

    [Fact]
    public void List_with_another_word_is_unknown() => Assert.IsType<UserInput.Unknown>(UserInput.Parse("/list everyone", false));

    [Theory]
    [InlineData("/passwd", false)]
    [InlineData("/passwd", true)]
    public void Passwd_changes_the_password(string line, bool inChat) => Assert.IsType<UserInput.ChangePassword>(UserInput.Parse(line, inChat));

    [Fact]
    public void Passwd_takes_no_argument_so_a_password_is_never_typed_on_the_command_line() =>
        Assert.IsType<UserInput.Unknown>(UserInput.Parse("/passwd hunter22", false));

    [Fact]
    public void In_a_chat_a_line_starting_with_an_exclamation_mark_is_a_message()
    {
        Assert.Equal(new UserInput.Say("!hello"), UserInput.Parse("!hello", true));
        Assert.Equal(new UserInput.Say("!!! wow"), UserInput.Parse("!!! wow", true));
    }

    [Fact]
    public void In_a_chat_the_sign_up_phrase_is_a_message() =>
        Assert.Equal(new UserInput.Say("Sign up"), UserInput.Parse("Sign up", true));

    [Fact]
    public void Outside_a_chat_other_exclamation_lines_are_unknown() =>
        Assert.IsType<UserInput.Unknown>(UserInput.Parse("!hello", false));
}
