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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Verify_shows_or_confirms_a_safety_number_and_accept_trusts_a_changed_key_in_every_view(int viewNumber)
    {
        var view = (InputView)viewNumber;
        Assert.Equal(new UserInput.Verify("bob", Confirmed: false), UserInput.Parse("/verify bob", view));
        Assert.Equal(new UserInput.Verify("bob", Confirmed: true), UserInput.Parse("/verify bob YES", view));
        Assert.Equal(new UserInput.AcceptKey("bob"), UserInput.Parse("/accept bob", view));
    }

    [Fact]
    public void Call_and_hangup_are_commands_in_every_view()
    {
        foreach (var view in Enum.GetValues<InputView>())
        {
            Assert.Equal(new UserInput.Call("bianca"), UserInput.Parse("/call bianca", view));
            Assert.IsType<UserInput.HangUp>(UserInput.Parse("/HANGUP", view));
        }

        Assert.IsType<UserInput.Unknown>(UserInput.Parse("/call", InputView.Menu));
        Assert.IsType<UserInput.Unknown>(UserInput.Parse("/hangup now", InputView.Menu));
    }

    [Theory]
    [InlineData("/verify")]
    [InlineData("/verify bob no")]
    [InlineData("/verify bob yes please")]
    [InlineData("/accept")]
    [InlineData("/accept bob carol")]
    public void Verify_and_accept_with_other_arguments_are_unknown(string line) => Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, InputView.Menu));

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

    [Theory]
    [InlineData("/talk bob", "Menu")]
    [InlineData("/TALK bob", "Room")]
    [InlineData("!TALK bob", "Menu")]
    [InlineData("!talk bob", "Room")]
    [InlineData("!TALK bob", "Talk")]
    [InlineData("/talk bob", "Chat")]
    public void Talk_opens_the_conversation_view_from_any_view(string line, string view) =>
        Assert.Equal(new UserInput.Talk("bob"), UserInput.Parse(line, Enum.Parse<InputView>(view)));

    [Theory]
    [InlineData("/talk")]
    [InlineData("!TALK bob carol")]
    public void Talk_needs_exactly_one_user(string line) => Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, InputView.Menu));

    [Theory]
    [InlineData("!BACK", "Talk")]
    [InlineData("!back", "Talk")]
    [InlineData("/back", "Talk")]
    [InlineData("!BACK", "Menu")]
    [InlineData("/back", "Room")]
    public void Back_leaves_the_conversation_view(string line, string view) => Assert.IsType<UserInput.Back>(UserInput.Parse(line, Enum.Parse<InputView>(view)));

    [Theory]
    [InlineData("/dm bob hello world", "hello world")]
    [InlineData("/msg bob hello world", "hello world")]
    [InlineData("/DM bob  keeps   its   spacing ", "keeps   its   spacing")]
    [InlineData("/dm bob /not-a-command", "/not-a-command")]
    public void Dm_sends_the_rest_of_the_line_as_typed(string line, string text) =>
        Assert.Equal(new UserInput.DirectMessage("bob", text), UserInput.Parse(line, InputView.Room));

    [Theory]
    [InlineData("/dm")]
    [InlineData("/dm bob")]
    [InlineData("/msg bob")]
    public void Dm_without_a_message_is_unknown(string line) => Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, InputView.Menu));

    [Fact]
    public void Room_commands()
    {
        Assert.Equal(new UserInput.Join("#x"), UserInput.Parse("/join #x", InputView.Menu));
        Assert.Equal(new UserInput.Join("#X"), UserInput.Parse("/JOIN #X", InputView.Room)); // the server normalises the name
        Assert.Equal(new UserInput.Part(null), UserInput.Parse("/part", InputView.Room));
        Assert.Equal(new UserInput.Part("#x"), UserInput.Parse("/part #x", InputView.Room));
        Assert.IsType<UserInput.Rooms>(UserInput.Parse("/rooms", InputView.Menu));
        Assert.IsType<UserInput.Rooms>(UserInput.Parse("/rooms", InputView.Talk));
    }

    [Theory]
    [InlineData("/join")]
    [InlineData("/join #a #b")]
    [InlineData("/part #a #b")]
    [InlineData("/rooms all")]
    public void Room_commands_with_the_wrong_number_of_words_are_unknown(string line) =>
        Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, InputView.Menu));

    [Theory]
    [InlineData("Menu")]
    [InlineData("Room")]
    public void Seed_003_and_004_menu_words_in_capitals_are_commands(string viewName)
    {
        var view = Enum.Parse<InputView>(viewName);
        Assert.IsType<UserInput.PublicMenu>(UserInput.Parse("PM", view));
        Assert.IsType<UserInput.DirectMenu>(UserInput.Parse("DM", view));
        Assert.Equal(new UserInput.Exit(Seed003: true), UserInput.Parse("EX", view));
        Assert.Equal(new UserInput.Exit(Seed003: false), UserInput.Parse(" EXIT ", view));
    }

    [Theory]
    [InlineData("pm")]
    [InlineData("Pm")]
    [InlineData("dm")]
    [InlineData("ex")]
    [InlineData("exit")]
    [InlineData("Exit")]
    [InlineData("PM me later")]
    public void Menu_words_not_in_capitals_or_not_alone_are_room_messages(string line)
    {
        Assert.Equal(new UserInput.Say(line), UserInput.Parse(line, InputView.Room));
        Assert.IsType<UserInput.Unknown>(UserInput.Parse(line, InputView.Menu));
    }

    [Fact]
    public void In_a_room_a_plain_line_is_said_there_but_seed_phrases_stay_commands()
    {
        Assert.Equal(new UserInput.Say("  hello everyone "), UserInput.Parse("  hello everyone ", InputView.Room));
        Assert.Equal(new UserInput.Say("!hello"), UserInput.Parse("!hello", InputView.Room));
        Assert.Equal(new UserInput.StartChat("bob"), UserInput.Parse("Chat bob", InputView.Room));
        Assert.Equal(new UserInput.History("bob"), UserInput.Parse("history bob", InputView.Room));
        Assert.IsType<UserInput.LogOff>(UserInput.Parse("Log off", InputView.Room));
        Assert.Equal(new UserInput.Say("/frobnicate"), UserInput.Parse("/say /frobnicate", InputView.Room));
        Assert.IsType<UserInput.Unknown>(UserInput.Parse("/frobnicate", InputView.Room)); // a mistyped command is not sent
    }

    [Fact]
    public void In_a_conversation_view_a_plain_line_is_a_message_even_if_it_looks_like_a_command()
    {
        Assert.Equal(new UserInput.Say("Chat bob"), UserInput.Parse("Chat bob", InputView.Talk));
        Assert.Equal(new UserInput.Say("PM"), UserInput.Parse("PM", InputView.Talk));
        Assert.Equal(new UserInput.Say("EXIT"), UserInput.Parse("EXIT", InputView.Talk));
        Assert.Equal(new UserInput.Say("!hello"), UserInput.Parse("!hello", InputView.Talk));
        Assert.IsType<UserInput.Back>(UserInput.Parse("!BACK", InputView.Talk));
        Assert.IsType<UserInput.LogOff>(UserInput.Parse("log off", InputView.Talk));
    }

    [Fact]
    public void In_a_chat_session_the_menu_words_are_messages()
    {
        Assert.Equal(new UserInput.Say("PM"), UserInput.Parse("PM", InputView.Chat));
        Assert.Equal(new UserInput.Say("EXIT"), UserInput.Parse("EXIT", true));
    }
}
