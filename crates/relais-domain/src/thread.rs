//! Follow-ups of a post: thread parts (a chain of replies) and the first comment, per network.

/// What a network can do after the first post, by the same account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replies {
    /// Post part n+1 as a reply to part n.
    pub thread: bool,
    /// One reply to the post right after it.
    pub first_comment: bool,
}

/// Replies per network name: the networks whose connector sends `reply_to` (Facebook and
/// Instagram answer with a comment, so they have a first comment but no thread).
pub fn replies(network: &str) -> Replies {
    let (thread, first_comment) = match network {
        "mastodon" | "bluesky" | "x" | "threads" => (true, true),
        "matrix" | "telegram" => (true, false),
        "facebook" | "instagram" => (false, true),
        _ => (false, false),
    };
    Replies {
        thread,
        first_comment,
    }
}

/// Most parts after the first one (a long chain is a blog post).
pub const MAX_PARTS: usize = 24;

/// Kind of a stored follow-up.
pub const PART: &str = "thread";
pub const COMMENT: &str = "comment";
