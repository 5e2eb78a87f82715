namespace Parley.Cli.ChatClient;

/// <summary>Where a plain line goes: what the user is looking at decides what a line that is not a command means.</summary>
internal enum InputView
{
    /// <summary>Logged off, or logged on but in no room: a plain line is a command or unknown.</summary>
    Menu,

    /// <summary>In a room (seed 004, the default after log-on): a plain line that is not a command is said in the room.</summary>
    Room,

    /// <summary>In a seed 001 chat session: a plain line is a CHAT.</summary>
    Chat,

    /// <summary>In seed 002's conversation view (!TALK): a plain line is a direct message to the peer.</summary>
    Talk,
}

/// <summary>What the user asked for with one line of input.</summary>
internal abstract record UserInput
{
    public sealed record Empty : UserInput;
    public sealed record LogOn(string? ClientId) : UserInput;
    public sealed record LogOff : UserInput;
    public sealed record StartChat(string ClientId) : UserInput;
    public sealed record EndChat : UserInput;
    public sealed record History(string ClientId) : UserInput;

    /// <summary>A plain line: a CHAT, a DM or a room message, by <see cref="InputView"/>.</summary>
    public sealed record Say(string Text) : UserInput;
    public sealed record SignUp(string? ClientId, string? Invite) : UserInput;
    public sealed record List(bool OnlineOnly) : UserInput;
    public sealed record ChangePassword : UserInput;

    /// <summary>Seed 002 "!TALK user", /talk: the conversation view with a user.</summary>
    public sealed record Talk(string ClientId) : UserInput;

    /// <summary>Seed 002 "!BACK", /back: leave the conversation view.</summary>
    public sealed record Back : UserInput;

    /// <summary>/dm user text: one direct message without opening the view.</summary>
    public sealed record DirectMessage(string ClientId, string Text) : UserInput;

    /// <summary>Seed 003 "PM": asks for a message, then says it to everyone in the default room.</summary>
    public sealed record PublicMenu : UserInput;

    /// <summary>Seed 003 "DM": lists who is online, asks "To:" and the message, then sends a direct message.</summary>
    public sealed record DirectMenu : UserInput;

    /// <summary>Seed 003 "EX" (<c>Seed003</c>) and seed 004 "EXIT": log off and end the program.</summary>
    public sealed record Exit(bool Seed003) : UserInput;
    /// <summary>/verify id: show the safety number; /verify id yes: the numbers matched, mark the contact verified (issue #5).</summary>
    public sealed record Verify(string ClientId, bool Confirmed) : UserInput;

    /// <summary>/call id: a direct chat, terminal to terminal (issue #6; seed 000).</summary>
    public sealed record Call(string ClientId) : UserInput;

    /// <summary>/hangup: end the direct chat (as Ctrl-C does).</summary>
    public sealed record HangUp : UserInput;

    /// <summary>/accept id: trust a contact's changed key and send what was held for them (issue #5).</summary>
    public sealed record AcceptKey(string ClientId) : UserInput;
    public sealed record Join(string Room) : UserInput;
    public sealed record Part(string? Room) : UserInput;
    public sealed record Rooms : UserInput;
    public sealed record Quit : UserInput;
    public sealed record Help : UserInput;
    public sealed record Unknown(string Text) : UserInput;

    public static UserInput Parse(string line, bool inChat) => Parse(line, inChat ? InputView.Chat : InputView.Menu);

    /// <summary>
    /// Reads seed 001's phrases ("Log on", "Log off", "Chat &lt;client-id&gt;", "End chat", "History &lt;client-id&gt;"),
    /// seed 002's "!signup", "!LIST", "!TALK user", "!BACK", seed 003's "PM", "DM", "EX", seed 004's "EXIT" (any
    /// letter case and spacing) and the slash forms. In a chat or a conversation view every other line is a
    /// message, the slash and '!' commands, "End chat", "Log off" and "!BACK" aside; in a room the seed phrases are
    /// commands too and every other line is said in the room. A message that looks like a command is sent with "/say".
    /// </summary>
    public static UserInput Parse(string line, InputView view)
    {
        var text = line.Trim();
        if (text.Length == 0)
        {
            return new Empty();
        }

        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var first = words[0].ToLowerInvariant();
        if (first.StartsWith('/'))
        {
            return ParseSlash(first, words, text);
        }

        // Seed 002's '!' commands are the slash forms under another prefix; any other '!' line is ordinary text.
        if (first is "!signup" or "!list" or "!talk" or "!back")
        {
            return ParseSlash("/" + first[1..], words, text);
        }

        var phrase = string.Join(' ', words).ToLowerInvariant();
        if (phrase == "end chat")
        {
            return new EndChat();
        }

        if (phrase == "log off")
        {
            return new LogOff();
        }

        if (view is InputView.Chat or InputView.Talk)
        {
            return new Say(line);
        }

        UserInput command = (phrase, words.Length) switch
        {
            ("log on", 2) => new LogOn(null),
            (_, 3) when phrase.StartsWith("log on ", StringComparison.Ordinal) => new LogOn(words[2]),
            ("sign up", 2) => new SignUp(null, null),
            (_, 3 or 4) when phrase.StartsWith("sign up ", StringComparison.Ordinal) => new SignUp(words[2], words.ElementAtOrDefault(3)),
            (_, 2) when first == "chat" => new StartChat(words[1]),
            (_, 2) when first == "history" => new History(words[1]),
            // Seed 003's menu and seed 004's EXIT are whole lines in capitals, as the seeds print them, so a room
            // message "pm me later" or "exit" stays a message.
            _ when text == "PM" => new PublicMenu(),
            _ when text == "DM" => new DirectMenu(),
            _ when text == "EX" => new Exit(Seed003: true),
            _ when text == "EXIT" => new Exit(Seed003: false),
            _ => new Unknown(text),
        };
        return command is Unknown && view == InputView.Room ? new Say(line) : command;
    }

    private static UserInput ParseSlash(string command, string[] words, string text)
    {
        var argument = words.Length == 2 ? words[1] : null;
        return command switch
        {
            "/logon" when words.Length <= 2 => new LogOn(argument),
            "/logoff" when words.Length == 1 => new LogOff(),
            "/chat" when argument is not null => new StartChat(argument),
            "/end" when words.Length == 1 => new EndChat(),
            "/history" when argument is not null => new History(argument),
            "/signup" when words.Length <= 3 => new SignUp(words.ElementAtOrDefault(1), words.ElementAtOrDefault(2)),
            "/list" when words.Length == 1 => new List(OnlineOnly: false),
            "/list" when words.Length == 2 && argument!.Equals("online", StringComparison.OrdinalIgnoreCase) => new List(OnlineOnly: true),
            "/passwd" when words.Length == 1 => new ChangePassword(),
            "/talk" when argument is not null => new Talk(argument),
            "/back" when words.Length == 1 => new Back(),
            "/dm" or "/msg" when words.Length > 2 => new DirectMessage(words[1], RestAfter(text, 2)),
            "/verify" when argument is not null => new Verify(argument, Confirmed: false),
            "/verify" when words.Length == 3 && words[2].Equals("yes", StringComparison.OrdinalIgnoreCase) => new Verify(words[1], Confirmed: true),
            "/accept" when argument is not null => new AcceptKey(argument),
            "/call" when argument is not null => new Call(argument),
            "/hangup" when words.Length == 1 => new HangUp(),
            "/join" when argument is not null => new Join(argument),
            "/part" when words.Length <= 2 => new Part(argument),
            "/rooms" when words.Length == 1 => new Rooms(),
            "/quit" when words.Length == 1 => new Quit(),
            "/help" => new Help(),
            "/say" when words.Length > 1 => new Say(RestAfter(text, 1)),
            _ => new Unknown(text),
        };
    }

    /// <summary>The text after the first <paramref name="count"/> words, as typed.</summary>
    private static string RestAfter(string text, int count)
    {
        var rest = text.AsSpan();
        for (var i = 0; i < count; i++)
        {
            rest = rest.TrimStart();
            var end = rest.IndexOfAny(' ', '\t');
            rest = end < 0 ? [] : rest[end..];
        }

        return rest.TrimStart().ToString();
    }

    public const string HelpText = """
        Commands (seed phrases, slash forms or seed 002's '!' forms, any letter case):
          Log on [id]            /logon [id]            connect and authenticate
          Sign up [id] [invite]  /signup [id] [invite]  create an account, then log on (also !signup)
          Chat <id>              /chat <id>             start an exclusive chat with <id> (seed 001)
          End chat               /end                   end the current chat
          History <id>           /history <id>          show past chat-session messages with <id>
                                 /talk <id>             open the conversation with <id>: past direct messages,
                                                        then every line you type goes to <id> (also !TALK <id>)
                                 /back                  leave the conversation (also !BACK)
                                 /dm <id> <text>        send one direct message (delivered later if <id> is offline)
                                 /join #room            join (or create) a room; your lines go there
                                 /part [#room]          leave a room (the current one if none is named)
                                 /rooms                 list the rooms
                                 /list [online]         every user, online or offline (also !LIST); or who is online
                                 /passwd                change your password
                                 /verify <id> [yes]     show the safety number you share with <id>; "yes" once
                                                        you have compared it with theirs: <id> is verified
                                 /call <id>             chat with <id> directly, terminal to terminal (seed 000);
                                                        the server only says where <id> is. Ctrl-C or /hangup ends it
                                 /accept <id>           trust <id>'s new key after a key-change warning, and
                                                        send the messages held for <id>
          Log off                /logoff                disconnect from the server (or stop reconnecting)
                                 /say <text>            send text that looks like a command
                                 /quit                  log off and leave
        Seed 003's menu, typed in capitals: PM - public message to all active users, DM - direct message to
        a single user, EX - exit program and log out. Seed 004: EXIT logs off and leaves.
        In a room, in a chat and in a conversation every other line is a message.
        """;
}
