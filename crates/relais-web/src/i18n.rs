//! French and English, complete. Every string of the interface has both translations in the
//! table below (the macro makes a missing one a compile error), and error messages say what
//! is wrong and what to do, per field.

use axum::http::HeaderMap;
use chrono::{Datelike, TimeZone, Timelike};
use relais_domain::{Code, Lang};

pub const LANG_COOKIE: &str = "relais_lang";

/// The visitor's language: the `relais_lang` cookie (set from the user's preference at login
/// and when it changes), then `Accept-Language`, then English.
pub fn lang_of_request(headers: &HeaderMap) -> Lang {
    crate::auth::cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

macro_rules! table {
    ($($key:literal => $en:literal, $fr:literal;)*) => {
        fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
            Some(match (key, lang) {
                $(($key, Lang::En) => $en, ($key, Lang::Fr) => $fr,)*
                _ => return None,
            })
        }
        #[cfg(test)]
        pub const KEYS: &[&str] = &[$($key),*];
    };
}

#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The translation of `key`; a missing key shows as `⟦key⟧` so tests catch it.
    pub fn t(&self, key: &str) -> &'static str {
        lookup(key, self.0).unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            Box::leak(format!("⟦{key}⟧").into_boxed_str())
        })
    }

    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }

    /// Label of a form/API field, for messages.
    pub fn field(&self, field: &str) -> &'static str {
        lookup(&format!("field.{field}"), self.0).unwrap_or(match self.0 {
            Lang::En => "This field",
            Lang::Fr => "Ce champ",
        })
    }

    /// A message for an error code, naming the field when there is one.
    pub fn code(&self, code: Code, field: Option<&str>) -> String {
        let msg = lookup(&format!("err.{}", code.as_str()), self.0)
            .unwrap_or_else(|| self.t("err.internal"));
        match field {
            Some(f) => msg.replace("{field}", self.field(f)),
            None => msg.replace(
                "{field}",
                match self.0 {
                    Lang::En => "This value",
                    Lang::Fr => "Cette valeur",
                },
            ),
        }
    }

    /// A date and time in the given zone, as each language writes it:
    /// « lun. 24 nov. 2026, 09 h 30 » / "Mon, Nov 24, 2026, 9:30 AM".
    pub fn datetime(&self, ms: impl std::borrow::Borrow<i64>, tz: &str) -> String {
        let ms = *ms.borrow();
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
        let Some(d) = tz.timestamp_millis_opt(ms).single() else {
            return String::new();
        };
        let wd = d.weekday().num_days_from_monday() as usize;
        let mo = d.month0() as usize;
        match self.0 {
            Lang::Fr => {
                const J: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
                const M: [&str; 12] = [
                    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                    "oct.", "nov.", "déc.",
                ];
                format!(
                    "{} {} {} {}, {:02}\u{a0}h\u{a0}{:02}",
                    J[wd],
                    d.day(),
                    M[mo],
                    d.year(),
                    d.hour(),
                    d.minute()
                )
            }
            Lang::En => {
                const D: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
                const M: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                let (pm, h) = d.hour12();
                format!(
                    "{}, {} {}, {}, {}:{:02} {}",
                    D[wd],
                    M[mo],
                    d.day(),
                    d.year(),
                    h,
                    d.minute(),
                    if pm { "PM" } else { "AM" }
                )
            }
        }
    }

    pub fn lang_name(&self, l: impl std::borrow::Borrow<Lang>) -> &'static str {
        self.t(&format!("lang.{}", l.borrow().as_str()))
    }

    pub fn state(
        &self,
        s: impl std::borrow::Borrow<relais_domain::publish::TargetState>,
    ) -> &'static str {
        self.t(&format!("state.{}", s.borrow().as_str()))
    }

    pub fn role(&self, role: &relais_domain::Role) -> &'static str {
        self.t(&format!("role.{}", role.as_str()))
    }
}

table! {
    "app.name" => "relais", "relais";
    "app.tagline" => "Community management, calm and checked.", "Le community management, serein et vérifié.";
    "nav.main" => "Main navigation", "Navigation principale";
    "nav.workspaces" => "Workspaces", "Espaces";
    "nav.switch" => "Switch workspace", "Changer d’espace";
    "nav.settings" => "Settings", "Paramètres";
    "nav.profile" => "Profile", "Profil";
    "nav.tokens" => "API tokens", "Jetons d’API";
    "nav.members" => "Members", "Membres";
    "nav.audit" => "Audit log", "Journal d’audit";
    "nav.workspace" => "Workspace", "Espace";
    "nav.jobs" => "Background jobs", "Tâches de fond";
    "nav.logout" => "Sign out", "Se déconnecter";
    "nav.skip" => "Skip to content", "Aller au contenu";
    "action.save" => "Save", "Enregistrer";
    "action.create" => "Create", "Créer";
    "action.cancel" => "Cancel", "Annuler";
    "action.remove" => "Remove", "Retirer";
    "action.revoke" => "Revoke", "Révoquer";
    "action.retry" => "Retry", "Relancer";
    "action.filter" => "Filter", "Filtrer";
    "action.export_csv" => "Export CSV", "Exporter en CSV";
    "action.archive" => "Archive", "Archiver";
    "action.unarchive" => "Restore", "Restaurer";
    "action.invite" => "Send invitation", "Envoyer l’invitation";
    "action.continue" => "Continue", "Continuer";
    "field.email" => "Email", "E-mail";
    "field.password" => "Password", "Mot de passe";
    "field.password_confirm" => "Confirm password", "Confirmer le mot de passe";
    "field.current_password" => "Current password", "Mot de passe actuel";
    "field.name" => "Name", "Nom";
    "field.workspace_name" => "Workspace name", "Nom de l’espace";
    "field.time_zone" => "Time zone", "Fuseau horaire";
    "field.lang" => "Language", "Langue";
    "field.role" => "Role", "Rôle";
    "field.token_name" => "Token name", "Nom du jeton";
    "field.code" => "Code", "Code";
    "field.token" => "Link", "Lien";
    "field.user_id" => "Member", "Membre";
    "field.actor" => "Who", "Qui";
    "field.from" => "From", "Du";
    "field.to" => "To", "Au";
    "role.owner" => "Owner", "Propriétaire";
    "role.manager" => "Manager", "Responsable";
    "role.editor" => "Editor", "Rédacteur";
    "role.contributor" => "Contributor", "Contributeur";
    "role.approver" => "Approver", "Valideur";
    "role.client" => "Client", "Client";
    "lang.en" => "English", "Anglais";
    "lang.fr" => "French", "Français";
    "lang.auto" => "Browser language", "Langue du navigateur";
    "err.required" => "{field} is required: fill it in.", "{field} est obligatoire : remplissez-le.";
    "err.too_short" => "{field} is too short: use at least 10 characters.", "{field} est trop court : au moins 10 caractères.";
    "err.too_long" => "{field} is too long: shorten it.", "{field} est trop long : raccourcissez-le.";
    "err.invalid_email" => "{field} is not a valid address: write it like name@example.com.", "{field} n’est pas une adresse valide : écrivez-la comme nom@exemple.fr.";
    "err.invalid_time_zone" => "{field} is not a known time zone: pick one like Europe/Paris.", "{field} n’est pas un fuseau connu : choisissez par exemple Europe/Paris.";
    "err.invalid_lang" => "{field} must be French or English.", "{field} doit être français ou anglais.";
    "err.invalid_role" => "{field} is not a role: pick owner, manager, editor, contributor, approver or client.", "{field} n’est pas un rôle : choisissez propriétaire, responsable, rédacteur, contributeur, valideur ou client.";
    "err.invalid_value" => "{field} contains characters that are not allowed: remove control characters.", "{field} contient des caractères interdits : retirez les caractères de contrôle.";
    "err.password_mismatch" => "{field} does not match the password: type the same password twice.", "{field} ne correspond pas : saisissez deux fois le même mot de passe.";
    "err.duplicate_email" => "{field} is already used by an account: sign in, or reset its password.", "{field} est déjà utilisé par un compte : connectez-vous ou réinitialisez son mot de passe.";
    "err.already_member" => "This person is already a member of the workspace.", "Cette personne est déjà membre de l’espace.";
    "err.wrong_password" => "Wrong email or password: check both and try again.", "E-mail ou mot de passe incorrect : vérifiez-les et réessayez.";
    "err.totp_required" => "Enter the 6-digit code from your authenticator app.", "Saisissez le code à 6 chiffres de votre application d’authentification.";
    "err.totp_invalid" => "This code is wrong or expired: enter the current code from your app.", "Ce code est faux ou expiré : saisissez le code actuel de votre application.";
    "err.invitation_expired" => "This invitation has expired: ask for a new one.", "Cette invitation a expiré : demandez-en une nouvelle.";
    "err.invitation_used" => "This invitation was already used or revoked: sign in, or ask for a new one.", "Cette invitation a déjà servi ou a été révoquée : connectez-vous ou demandez-en une nouvelle.";
    "err.token_invalid" => "This link is not valid: request a new one.", "Ce lien n’est pas valide : demandez-en un nouveau.";
    "err.token_expired" => "This link has expired: request a new one.", "Ce lien a expiré : demandez-en un nouveau.";
    "err.setup_done" => "relais is already set up: sign in.", "relais est déjà configuré : connectez-vous.";
    "err.last_owner" => "A workspace needs at least one owner: make someone else owner first.", "Un espace doit garder au moins un propriétaire : nommez-en d’abord un autre.";
    "err.archived" => "This workspace is archived: restore it to change it.", "Cet espace est archivé : restaurez-le pour le modifier.";
    "err.unauthenticated" => "Sign in first.", "Connectez-vous d’abord.";
    "err.forbidden" => "Your role does not allow this: ask a manager of the workspace.", "Votre rôle ne le permet pas : demandez à un responsable de l’espace.";
    "err.not_found" => "Nothing here: check the address.", "Rien ici : vérifiez l’adresse.";
    "err.csrf" => "This form expired: reload the page and send it again.", "Ce formulaire a expiré : rechargez la page et renvoyez-le.";
    "err.rate_limited" => "Too many failed attempts: wait 15 minutes, or reset your password.", "Trop d’essais manqués : attendez 15 minutes ou réinitialisez votre mot de passe.";
    "err.conflict" => "This changed meanwhile: reload the page and try again.", "Cela a changé entre-temps : rechargez la page et réessayez.";
    "err.bad_request" => "{field} could not be read: send valid JSON or form data.", "{field} est illisible : envoyez du JSON ou un formulaire valide.";
    "err.unavailable" => "The database is unreachable right now: try again in a moment.", "La base de données est injoignable : réessayez dans un instant.";
    "err.internal" => "Something went wrong on our side: try again; the error is in the server log.", "Un problème est survenu de notre côté : réessayez ; l’erreur est dans le journal du serveur.";
    "err.dst_gap" => "{field} does not exist that day: the clocks jump forward an hour. Pick another time.", "{field} n’existe pas ce jour-là : on avance l’heure d’une heure. Choisissez une autre heure.";
    "err.dst_ambiguous" => "{field} happens twice that day (the clocks go back): pick a time outside 02:00–03:00.", "{field} existe deux fois ce jour-là (on recule l’heure) : choisissez une heure hors de 02 h – 03 h.";
    "err.in_past" => "{field} is in the past: pick a later date, or publish now.", "{field} est dans le passé : choisissez une date ultérieure, ou publiez maintenant.";
    "nav.compose" => "Compose", "Composer";
    "nav.posts" => "Publications", "Publications";
    "compose.title" => "New publication", "Nouvelle publication";
    "compose.main" => "Message", "Message";
    "compose.channels" => "Channels", "Canaux";
    "compose.no_channels" => "No channel is connected to this workspace yet: a manager connects them under Settings → Channels.", "Aucun canal n’est encore connecté à cet espace : un responsable les connecte dans Paramètres → Canaux.";
    "compose.variants" => "Text per channel", "Texte par canal";
    "compose.variant_help" => "Leave empty to use the main message.", "Laissez vide pour reprendre le message principal.";
    "compose.when" => "When", "Quand";
    "compose.tz_note" => "Time in the workspace’s zone:", "Heure dans le fuseau de l’espace :";
    "compose.draft" => "Save as draft", "Enregistrer le brouillon";
    "compose.schedule" => "Schedule", "Programmer";
    "compose.now" => "Publish now", "Publier maintenant";
    "compose.saved" => "Saved.", "Enregistré.";
    "compose.over" => "over the limit", "au-delà de la limite";
    "check.title" => "Checks", "Vérifications";
    "check.none" => "No problem found.", "Aucun problème trouvé.";
    "check.block" => "Blocks publishing", "Bloque la publication";
    "check.needs_approval" => "Needs approval", "Demande une validation";
    "check.warn" => "Warning", "Avertissement";
    "check.suggestions" => "Suggestions", "Suggestions";
    "check.no_dictionary" => "No spelling dictionary for this language: spelling is NOT checked:", "Pas de dictionnaire pour cette langue : l’orthographe n’est PAS vérifiée :";
    "err.blocked" => "{field} has a problem that blocks publishing (see Checks): fix it, or save as draft.", "{field} contient un problème qui bloque la publication (voir Vérifications) : corrigez-le, ou enregistrez un brouillon.";
    "err.invalid_rule" => "{field} has a rule that cannot be used: fix the rule named in brackets.", "{field} contient une règle inutilisable : corrigez la règle indiquée entre parenthèses.";
    "field.charter" => "The charter", "La charte";
    "field.text" => "The text", "Le texte";
    "nav.charter" => "Editorial charter", "Charte éditoriale";
    "charter.title" => "Editorial charter", "Charte éditoriale";
    "charter.help" => "Forbidden and required terms, brand spellings, words that force approval, confidential code names, custom dictionary words. Every post is checked against it (format: docs/guard.md).", "Termes interdits et obligatoires, graphie des marques, mots qui imposent une validation, noms de code confidentiels, mots du dictionnaire maison. Chaque publication est vérifiée avec elle (format : docs/guard.md).";
    "freeze.banner" => "Publishing is frozen (crisis): nothing goes out.", "Publications gelées (crise) : rien ne part.";
    "freeze.manage" => "Unfreeze…", "Dégeler…";
    "freeze.title" => "Crisis freeze", "Gel de crise";
    "freeze.help" => "Holds every scheduled publication of this workspace at once. Nothing is published until you unfreeze.", "Retient d’un coup toutes les publications programmées de cet espace. Rien n’est publié avant le dégel.";
    "freeze.button" => "Freeze all publishing", "Geler toutes les publications";
    "freeze.unfreeze" => "Unfreeze", "Dégeler";
    "freeze.due_question" => "What should happen to the publications whose time passed during the freeze?", "Que faire des publications dont l’heure est passée pendant le gel ?";
    "freeze.publish_now" => "Publish them now", "Les publier maintenant";
    "freeze.reschedule" => "Shift them by the length of the freeze", "Les décaler de la durée du gel";
    "freeze.drafts" => "Put them back to draft", "Les remettre en brouillon";
    "field.reason" => "Reason", "Motif";
    "field.resolution" => "What to do", "Que faire";
    "err.query_syntax" => "{field} cannot be read: fix it at the position given in brackets.", "{field} est illisible : corrigez-la à la position indiquée entre parenthèses.";
    "err.invalid_url" => "{field} is not a web address: write it like https://example.com/feed.xml.", "{field} n’est pas une adresse web : écrivez-la comme https://exemple.fr/flux.xml.";
    "err.url_refused" => "{field} points to a private or local address, which relais does not fetch: use a public address, or ask the administrator to allow it.", "{field} désigne une adresse privée ou locale, que relais ne consulte pas : utilisez une adresse publique ou demandez à l’administrateur de l’autoriser.";
    "nav.listening" => "Listening", "Veille";
    "listen.title" => "Listening", "Veille";
    "listen.queries" => "Queries", "Requêtes";
    "listen.sources" => "Sources", "Sources";
    "listen.mentions" => "Mentions", "Mentions";
    "listen.no_mentions" => "No mention yet. Add a query and a source: new items are checked every few minutes.", "Aucune mention pour l’instant. Ajoutez une requête et une source : les nouveautés sont relevées toutes les quelques minutes.";
    "listen.add_query" => "Add a query", "Ajouter une requête";
    "listen.add_source" => "Follow a feed (RSS, Atom, JSON Feed)", "Suivre un flux (RSS, Atom, JSON Feed)";
    "listen.explain" => "Means:", "Signifie :";
    "listen.all" => "All queries", "Toutes les requêtes";
    "listen.irrelevant" => "Not relevant", "Hors sujet";
    "listen.last_error" => "Last error", "Dernière erreur";
    "listen.tag.brand" => "Brand", "Marque";
    "listen.tag.competitor" => "Competitor", "Concurrent";
    "listen.tag.topic" => "Topic", "Thématique";
    "field.expression" => "Query", "La requête";
    "field.url" => "Feed address", "L’adresse du flux";
    "field.tag" => "Kind", "Type";
    "err.channel_refused" => "The network refused these credentials or could not be reached: check them and try again (its answer is in brackets).", "Le réseau a refusé ces identifiants ou n’a pas répondu : vérifiez-les et réessayez (sa réponse est entre parenthèses).";
    "nav.channels" => "Channels", "Canaux";
    "channels.title" => "Channels", "Canaux";
    "channels.empty" => "No channel yet.", "Aucun canal pour l’instant.";
    "channels.connect" => "Connect", "Connecter";
    "channels.status" => "Status", "État";
    "channels.status.connected" => "Connected", "Connecté";
    "channels.status.needs_reconnect" => "Needs reconnecting", "À reconnecter";
    "channels.status.rate_limited" => "Rate-limited", "Limité par le réseau";
    "channels.until" => "until", "jusqu’au";
    "channels.gated" => "Facebook, Instagram, Threads, LinkedIn and X need your own developer app on each network; they are not available yet.", "Facebook, Instagram, Threads, LinkedIn et X demandent votre propre application de développeur sur chaque réseau ; ils ne sont pas encore disponibles.";
    "channels.secret_note" => "Credentials are checked with the network, then stored encrypted; they are never shown again.", "Les identifiants sont vérifiés auprès du réseau puis stockés chiffrés ; ils ne sont plus jamais affichés.";
    "field.network" => "Network", "Réseau";
    "field.credentials" => "The credentials", "Les identifiants";
    "ch.instance" => "Instance (https://mastodon.example)", "Instance (https://mastodon.exemple)";
    "ch.access_token" => "Access token", "Jeton d’accès";
    "ch.pds" => "PDS (empty: bsky.social)", "PDS (vide : bsky.social)";
    "ch.identifier" => "Handle (name.bsky.social)", "Identifiant (nom.bsky.social)";
    "ch.app_password" => "App password", "Mot de passe d’application";
    "ch.homeserver" => "Homeserver (https://matrix.example)", "Serveur (https://matrix.exemple)";
    "ch.room" => "Room (!id:server or #alias:server)", "Salon (!id:serveur ou #alias:serveur)";
    "ch.site" => "Site (https://blog.example)", "Site (https://blog.exemple)";
    "ch.user" => "User", "Utilisateur";
    "ch.chat_id" => "Chat id (@channel or -100…)", "Identifiant du chat (@canal ou -100…)";
    "ch.bot_token" => "Bot token", "Jeton du bot";
    "ch.webhook_url" => "Webhook URL", "URL du webhook";
    "ch.url" => "Address (https://…)", "Adresse (https://…)";
    "ch.secret" => "Signing secret", "Secret de signature";
    "links.check" => "Check links", "Vérifier les liens";
    "links.none" => "No link in the message.", "Aucun lien dans le message.";
    "links.ok" => "Every link answers.", "Tous les liens répondent.";
    "posts.health" => "Publishing health", "Santé des publications";
    "posts.due" => "Due now", "À publier maintenant";
    "posts.late" => "Late (over 2 min)", "En retard (plus de 2 min)";
    "err.own_post" => "Nobody approves their own post: another approver must decide.", "Personne ne valide sa propre publication : un autre valideur doit décider.";
    "nav.approvals" => "Approvals", "Validations";
    "approvals.title" => "Waiting for approval", "En attente de validation";
    "approvals.empty" => "Nothing waits for a decision.", "Rien n’attend de décision.";
    "approvals.stage.internal" => "Internal review", "Validation interne";
    "approvals.stage.client" => "Client review", "Validation client";
    "approvals.by" => "by", "par";
    "approvals.wanted" => "to publish", "à publier le";
    "approvals.approve" => "Approve", "Valider";
    "approvals.changes" => "Request changes", "Demander des modifications";
    "approvals.reject" => "Reject", "Refuser";
    "approvals.mode" => "Approval before publishing", "Validation avant publication";
    "approvals.mode.none" => "None (editors publish directly; contributors always need approval)", "Aucune (les rédacteurs publient directement ; les contributeurs passent toujours en validation)";
    "approvals.mode.internal" => "One internal stage", "Une étape interne";
    "approvals.mode.internal_client" => "Internal stage, then the client", "Étape interne, puis le client";
    "approvals.yours" => "Your post: another approver decides.", "Votre publication : un autre valideur décide.";
    "compose.submit" => "Submit for approval", "Soumettre à validation";
    "field.comment" => "Comment", "Commentaire";
    "field.decision" => "The decision", "La décision";
    "field.approval_mode" => "The approval mode", "Le mode de validation";
    "compose.override" => "Publish despite a blocking check", "Publier malgré une vérification bloquante";
    "compose.override_help" => "Owners and managers only. Say why: the justification is kept in the audit log.", "Propriétaires et responsables uniquement. Dites pourquoi : la justification est gardée dans le journal d’audit.";
    "field.override_reason" => "Justification", "Justification";
    "ical.title" => "Calendar feed", "Flux agenda";
    "ical.button" => "New calendar feed URL (iCal)", "Nouvelle adresse de flux agenda (iCal)";
    "ical.help" => "Subscribe to the planned publications from any calendar. Making a new address stops the old one.", "Abonnez-vous aux publications prévues depuis n’importe quel agenda. Une nouvelle adresse désactive l’ancienne.";
    "ical.created" => "Copy this address into your calendar now (it will not be shown again):", "Copiez cette adresse dans votre agenda maintenant (elle ne sera plus affichée) :";
    "import.title" => "Import publications", "Importer des publications";
    "import.help" => "Paste CSV (columns date, time, channels, text; channels by name, separated by |; times in the workspace’s zone; no date = draft) or a JSON list of the same objects. If one row is wrong, nothing is imported.", "Collez du CSV (colonnes date, time, channels, text ; canaux par leur nom, séparés par | ; heures dans le fuseau de l’espace ; sans date = brouillon) ou une liste JSON des mêmes objets. Si une ligne est fausse, rien n’est importé.";
    "import.data" => "CSV or JSON", "CSV ou JSON";
    "import.submit" => "Import", "Importer";
    "import.failed" => "Nothing was imported. Fix these lines and try again:", "Rien n’a été importé. Corrigez ces lignes et réessayez :";
    "import.line" => "Line", "Ligne";
    "import.done" => "publications imported.", "publications importées.";
    "field.file" => "The file", "Le fichier";
    "nav.calendar" => "Calendar", "Calendrier";
    "cal.prev" => "Previous month", "Mois précédent";
    "cal.next" => "Next month", "Mois suivant";
    "cal.today" => "Today", "Aujourd’hui";
    "cal.list" => "List", "Liste";
    "cal.mon" => "Mon", "lun.";
    "cal.tue" => "Tue", "mar.";
    "cal.wed" => "Wed", "mer.";
    "cal.thu" => "Thu", "jeu.";
    "cal.fri" => "Fri", "ven.";
    "cal.sat" => "Sat", "sam.";
    "cal.sun" => "Sun", "dim.";
    "notify.failed" => "A publication failed", "Une publication a échoué";
    "notify.unconfirmed" => "A publication is unconfirmed (relais is checking the network)", "Une publication n’est pas confirmée (relais vérifie auprès du réseau)";
    "notify.title" => "Notifications", "Notifications";
    "notify.empty" => "Nothing new.", "Rien de nouveau.";
    "notify.open" => "Open", "Ouvrir";
    "err.no_slot" => "{field}: this channel has no free queue slot in the next four weeks: add slots on the Channels page.", "{field} : ce canal n’a pas de créneau libre dans les quatre semaines : ajoutez des créneaux dans Canaux.";
    "compose.queue" => "Add to queue", "Ajouter à la file";
    "channels.slots" => "Queue slots", "Créneaux de la file";
    "channels.slots_help" => "e.g. Mon-Fri 09:30 12:30; Sat 10:00 (workspace time)", "ex. lun-ven 09:30 12:30 ; sam 10:00 (heure de l’espace)";
    "field.slots" => "The queue slots", "Les créneaux";
    "posts.title" => "Publications", "Publications";
    "posts.empty" => "Nothing planned in this period.", "Rien de prévu sur cette période.";
    "posts.channel" => "Channel", "Canal";
    "posts.text" => "Text", "Texte";
    "posts.state" => "Status", "Statut";
    "posts.open" => "open", "ouvrir";
    "field.body" => "Message", "Message";
    "field.request" => "The request body", "Le corps de la requête";
    "field.channels" => "Channels", "Canaux";
    "field.date" => "Date", "Date";
    "field.time" => "Time", "Heure";
    "field.action" => "Action", "Action";
    "state.draft" => "Draft", "Brouillon";
    "state.in_review" => "In review", "En validation";
    "state.approved" => "Approved", "Validé";
    "state.scheduled" => "Scheduled", "Programmé";
    "state.publishing" => "Publishing", "En cours de publication";
    "state.published" => "Published", "Publié";
    "state.failed" => "Failed", "Échec";
    "state.unconfirmed" => "Unconfirmed", "Non confirmé";
    "state.frozen" => "Frozen", "Gelé";
    "state.cancelled" => "Cancelled", "Annulé";
    "error.title" => "Error", "Erreur";
    "error.back" => "Back to my workspaces", "Retour à mes espaces";
    "setup.title" => "Set up relais", "Configurer relais";
    "setup.intro" => "Create the owner account of this relais. This page works once, with the link printed at start-up.", "Créez le compte propriétaire de ce relais. Cette page ne sert qu’une fois, avec le lien affiché au démarrage.";
    "setup.submit" => "Create the owner account", "Créer le compte propriétaire";
    "login.title" => "Sign in", "Connexion";
    "login.submit" => "Sign in", "Se connecter";
    "login.forgot" => "Forgot your password?", "Mot de passe oublié ?";
    "login.totp_title" => "Two-step verification", "Vérification en deux étapes";
    "login.totp_help" => "Open your authenticator app and enter the 6-digit code for relais.", "Ouvrez votre application d’authentification et saisissez le code à 6 chiffres de relais.";
    "forgot.title" => "Reset your password", "Réinitialiser le mot de passe";
    "forgot.help" => "Enter your email: if an account uses it, we send a link valid for one hour.", "Saisissez votre e-mail : si un compte l’utilise, nous envoyons un lien valable une heure.";
    "forgot.submit" => "Send the link", "Envoyer le lien";
    "forgot.sent" => "If an account uses this address, a reset link is on its way.", "Si un compte utilise cette adresse, un lien de réinitialisation est en route.";
    "forgot.no_smtp" => "No email server is configured: the administrator finds the link in the relais log.", "Aucun serveur d’e-mail n’est configuré : l’administrateur trouve le lien dans le journal de relais.";
    "reset.title" => "Choose a new password", "Choisir un nouveau mot de passe";
    "reset.submit" => "Set the password", "Définir le mot de passe";
    "reset.done" => "Your password is changed. Sign in with it.", "Votre mot de passe est changé. Connectez-vous avec.";
    "home.title" => "Your workspaces", "Vos espaces";
    "home.empty" => "No workspace yet. Create one per brand or client.", "Aucun espace pour l’instant. Créez-en un par marque ou client.";
    "home.new" => "New workspace", "Nouvel espace";
    "home.archived" => "archived", "archivé";
    "ws.settings_title" => "Workspace settings", "Paramètres de l’espace";
    "ws.saved" => "Saved.", "Enregistré.";
    "ws.archive_help" => "An archived workspace stays readable but nothing in it changes or publishes.", "Un espace archivé reste consultable mais rien n’y change ni n’y est publié.";
    "ws.archived_banner" => "This workspace is archived.", "Cet espace est archivé.";
    "ws.overview" => "Overview", "Vue d’ensemble";
    "ws.your_role" => "Your role", "Votre rôle";
    "members.title" => "Members", "Membres";
    "members.invite" => "Invite someone", "Inviter quelqu’un";
    "members.pending" => "Pending invitations", "Invitations en attente";
    "members.expires" => "expires", "expire le";
    "members.since" => "Member since", "Membre depuis";
    "members.invited" => "Invitation sent.", "Invitation envoyée.";
    "members.invited_log" => "No email server is configured: the invitation link is in the relais log.", "Aucun serveur d’e-mail n’est configuré : le lien d’invitation est dans le journal de relais.";
    "invite.title" => "Join a workspace", "Rejoindre un espace";
    "invite.intro" => "You are invited to join", "Vous êtes invité à rejoindre";
    "invite.as" => "as", "en tant que";
    "invite.create_account" => "Create your account to accept.", "Créez votre compte pour accepter.";
    "invite.signed_in_as" => "You are signed in as", "Vous êtes connecté en tant que";
    "invite.accept" => "Accept the invitation", "Accepter l’invitation";
    "invite.other_account" => "This invitation is for another address: sign out first, then open the link again.", "Cette invitation est destinée à une autre adresse : déconnectez-vous puis rouvrez le lien.";
    "invite.existing_account" => "An account already uses this address: sign in to accept.", "Un compte utilise déjà cette adresse : connectez-vous pour accepter.";
    "audit.title" => "Audit log", "Journal d’audit";
    "audit.empty" => "No entry matches.", "Aucune entrée ne correspond.";
    "audit.when" => "When", "Quand";
    "audit.before" => "Before", "Avant";
    "audit.after" => "After", "Après";
    "audit.target" => "What", "Quoi";
    "profile.title" => "Your profile", "Votre profil";
    "profile.password" => "Change password", "Changer de mot de passe";
    "profile.password_changed" => "Password changed. Your other sessions were signed out.", "Mot de passe changé. Vos autres sessions ont été fermées.";
    "profile.totp" => "Two-step verification", "Vérification en deux étapes";
    "profile.totp_on" => "On: a code from your authenticator app is asked at sign-in.", "Activée : un code de votre application est demandé à la connexion.";
    "profile.totp_off" => "Off. Turn it on to protect your account with a second factor.", "Désactivée. Activez-la pour protéger votre compte par un second facteur.";
    "profile.totp_setup" => "Add this key to your authenticator app (or open the link on your phone), then enter the code it shows.", "Ajoutez cette clé à votre application d’authentification (ou ouvrez le lien sur votre téléphone), puis saisissez le code affiché.";
    "profile.totp_enable" => "Turn on", "Activer";
    "profile.totp_disable" => "Turn off", "Désactiver";
    "profile.totp_key" => "Key", "Clé";
    "tokens.title" => "Personal API tokens", "Jetons d’API personnels";
    "tokens.help" => "Send a token as `Authorization: Bearer …` to /api/v1. It acts as you, in every workspace you belong to.", "Envoyez un jeton en `Authorization: Bearer …` à /api/v1. Il agit en votre nom, dans tous vos espaces.";
    "tokens.created" => "Copy this token now: it will not be shown again.", "Copiez ce jeton maintenant : il ne sera plus affiché.";
    "tokens.empty" => "No token.", "Aucun jeton.";
    "tokens.last_used" => "Last used", "Dernière utilisation";
    "tokens.never" => "never", "jamais";
    "jobs.title" => "Background jobs", "Tâches de fond";
    "jobs.dead" => "Failed jobs", "Tâches en échec";
    "jobs.none_dead" => "No failed job.", "Aucune tâche en échec.";
    "jobs.queued" => "Queued", "En attente";
    "jobs.running" => "Running", "En cours";
    "jobs.lag" => "Queue lag", "Retard de la file";
    "jobs.kind" => "Kind", "Type";
    "jobs.error" => "Error", "Erreur";
    "jobs.attempts" => "Attempts", "Essais";
    "mail.invite_subject" => "You are invited to a relais workspace", "Invitation à un espace relais";
    "mail.invite_body" => "{who} invites you to join the workspace “{ws}” as {role}.\n\nOpen this link within 7 days to accept:\n{link}\n", "{who} vous invite à rejoindre l’espace « {ws} » en tant que {role}.\n\nOuvrez ce lien dans les 7 jours pour accepter :\n{link}\n";
    "mail.reset_subject" => "Reset your relais password", "Réinitialisation de votre mot de passe relais";
    "mail.reset_body" => "Someone asked to reset the password of this account. If it was you, open this link within one hour:\n{link}\n\nOtherwise, ignore this email.\n", "Quelqu’un a demandé à réinitialiser le mot de passe de ce compte. Si c’est vous, ouvrez ce lien dans l’heure :\n{link}\n\nSinon, ignorez cet e-mail.\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for code in Code::ALL {
            for lang in [Lang::En, Lang::Fr] {
                assert!(
                    lookup(&format!("err.{}", code.as_str()), lang).is_some(),
                    "err.{code} ({lang:?})"
                );
            }
        }
    }

    #[test]
    fn messages_name_the_field() {
        let m = Tr(Lang::Fr).code(Code::Required, Some("email"));
        assert_eq!(m, "E-mail est obligatoire : remplissez-le.");
        assert!(Tr(Lang::En)
            .code(Code::InvalidTimeZone, Some("time_zone"))
            .starts_with("Time zone is not"));
    }

    #[test]
    fn keys_unique_and_dates_localised() {
        let mut seen = std::collections::HashSet::new();
        for k in KEYS {
            assert!(seen.insert(k), "duplicate key {k}");
        }
        // 2026-11-24 08:30 UTC = 09:30 in Paris.
        let ms = 1_795_509_000_000;
        assert_eq!(
            Tr(Lang::Fr).datetime(ms, "Europe/Paris"),
            "mar. 24 nov. 2026, 09\u{a0}h\u{a0}30"
        );
        assert_eq!(
            Tr(Lang::En).datetime(ms, "Europe/Paris"),
            "Tue, Nov 24, 2026, 9:30 AM"
        );
    }
}
