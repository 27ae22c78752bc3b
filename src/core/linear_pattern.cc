#include "core/linear_pattern.h"

#include <utility>

namespace lathe {

// Compiling recurses on the pattern, which is lathe's own (a service model's), never on the input.
class PatternCompiler {
 public:
  explicit PatternCompiler(std::string_view pattern) : p_(pattern) {}

  Result<LinearPattern> Run() {
    Node root;
    if (!ParseAlternation(&root)) return Fail();
    if (at_ != p_.size()) {
      why_ = "unbalanced ')'";
      return Fail();
    }
    LinearPattern out;
    out.pattern_ = std::string(p_);
    program_ = &out.program_;
    sets_ = &out.byte_sets_;
    if (!Emit(root)) return Fail();
    Push({LinearPattern::Inst::kMatch});
    if (program_->size() > kMaxProgram) {
      why_ = "pattern compiles to more than " + std::to_string(kMaxProgram) + " instructions";
      return Fail();
    }
    return out;
  }

 private:
  using Inst = LinearPattern::Inst;
  using ByteSet = LinearPattern::ByteSet;
  static constexpr size_t kMaxProgram = 200000;
  static constexpr int kMaxCount = 1000;  // largest {m,n} bound accepted

  struct Node {
    enum Kind { kSet, kEmpty, kConcat, kAlt, kRepeat, kBegin, kEnd } kind = kEmpty;
    ByteSet set;
    std::vector<Node> kids;
    int min = 0, max = -1;  // kRepeat; max -1 = unbounded
  };

  Status Fail() const {
    return Status::InvalidArgument("pattern \"" + std::string(p_) + "\": " + why_ + " at offset " + std::to_string(at_));
  }
  bool Error(std::string why) {
    why_ = std::move(why);
    return false;
  }
  bool More() const { return at_ < p_.size(); }
  char Peek() const { return p_[at_]; }

  bool ParseAlternation(Node* out) {
    Node alt;
    alt.kind = Node::kAlt;
    while (true) {
      Node branch;
      if (!ParseConcat(&branch)) return false;
      alt.kids.push_back(std::move(branch));
      if (!More() || Peek() != '|') break;
      ++at_;  // '|'
    }
    *out = alt.kids.size() == 1 ? std::move(alt.kids[0]) : std::move(alt);
    return true;
  }

  bool ParseConcat(Node* out) {
    out->kind = Node::kConcat;
    while (More() && Peek() != '|' && Peek() != ')') {
      Node atom;
      if (!ParseAtom(&atom)) return false;
      while (More() && (Peek() == '*' || Peek() == '+' || Peek() == '?' || Peek() == '{')) {
        Node rep;
        rep.kind = Node::kRepeat;
        if (!ParseQuantifier(&rep.min, &rep.max)) return false;
        rep.kids.push_back(std::move(atom));
        atom = std::move(rep);
      }
      out->kids.push_back(std::move(atom));
    }
    return true;
  }

  bool ParseQuantifier(int* min, int* max) {
    const char q = p_[at_++];
    if (q == '*') *min = 0, *max = -1;
    else if (q == '+') *min = 1, *max = -1;
    else if (q == '?') *min = 0, *max = 1;
    else {
      if (!ParseCount(min)) return false;
      *max = *min;
      if (More() && Peek() == ',') {
        ++at_;
        *max = -1;
        if (More() && Peek() != '}' && !ParseCount(max)) return false;
      }
      if (!More() || Peek() != '}') return Error("expected '}'");
      ++at_;
      if (*max != -1 && *max < *min) return Error("{m,n} with n < m");
    }
    if (More() && Peek() == '?') return Error("lazy quantifiers are not supported");
    return true;
  }

  bool ParseCount(int* n) {
    if (!More() || Peek() < '0' || Peek() > '9') return Error("expected a count");
    *n = 0;
    while (More() && Peek() >= '0' && Peek() <= '9') {
      *n = *n * 10 + (p_[at_++] - '0');
      if (*n > kMaxCount) return Error("count above " + std::to_string(kMaxCount));
    }
    return true;
  }

  static ByteSet Complement(const ByteSet& s) {
    ByteSet out;
    for (int i = 0; i < 4; ++i) out.bits[i] = ~s.bits[i];
    return out;
  }
  static void AddRange(ByteSet* s, unsigned char lo, unsigned char hi) {
    for (unsigned c = lo; c <= hi; ++c) s->Add(static_cast<unsigned char>(c));
  }
  static void Merge(ByteSet* into, const ByteSet& s) {
    for (int i = 0; i < 4; ++i) into->bits[i] |= s.bits[i];
  }

  // After a backslash: a class escape (\s \d \w and their complements) fills *set and returns
  // true in *is_class; anything else is the literal byte.
  bool ParseEscape(ByteSet* set, bool* is_class, unsigned char* literal) {
    if (!More()) return Error("trailing backslash");
    const char e = p_[at_++];
    ByteSet cls;
    *is_class = true;
    switch (e) {
      case 's': case 'S': for (char c : std::string_view(" \t\n\v\f\r")) cls.Add(static_cast<unsigned char>(c)); break;
      case 'd': case 'D': AddRange(&cls, '0', '9'); break;
      case 'w': case 'W': AddRange(&cls, 'a', 'z'), AddRange(&cls, 'A', 'Z'), AddRange(&cls, '0', '9'), cls.Add('_'); break;
      default: {
        *is_class = false;
        if (e == 'n') *literal = '\n';
        else if (e == 't') *literal = '\t';
        else if (e == 'r') *literal = '\r';
        else if (e == 'f') *literal = '\f';
        else if (e == 'v') *literal = '\v';
        else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
          return Error(std::string("unsupported escape \\") + e);
        else *literal = static_cast<unsigned char>(e);
        return true;
      }
    }
    *set = (e >= 'A' && e <= 'Z') ? Complement(cls) : cls;
    return true;
  }

  bool ParseClass(ByteSet* out) {
    bool negate = false;
    if (More() && Peek() == '^') negate = true, ++at_;
    ByteSet set;
    bool first = true;
    while (More() && (Peek() != ']' || first)) {
      first = false;
      unsigned char lo;
      bool is_class = false;
      ByteSet cls;
      if (!ReadClassAtom(&cls, &is_class, &lo)) return false;
      if (is_class) {
        Merge(&set, cls);
        continue;
      }
      // "a-z" is a range; a '-' first, last, or after a range is itself.
      if (at_ + 1 < p_.size() && Peek() == '-' && p_[at_ + 1] != ']') {
        ++at_;
        unsigned char hi;
        if (!ReadClassAtom(&cls, &is_class, &hi)) return false;
        if (is_class) return Error("a class escape cannot end a range");
        if (hi < lo) return Error("range out of order");
        AddRange(&set, lo, hi);
      } else {
        set.Add(lo);
      }
    }
    if (!More()) return Error("unterminated '['");
    ++at_;  // ']'
    *out = negate ? Complement(set) : set;
    return true;
  }

  bool ReadClassAtom(ByteSet* cls, bool* is_class, unsigned char* literal) {
    const char c = p_[at_++];
    *is_class = false;
    if (static_cast<unsigned char>(c) >= 0x80) return Error("non-ASCII byte in the pattern");
    if (c == '\\') return ParseEscape(cls, is_class, literal);
    *literal = static_cast<unsigned char>(c);
    return true;
  }

  bool ParseAtom(Node* out) {
    const char c = p_[at_++];
    if (static_cast<unsigned char>(c) >= 0x80) return Error("non-ASCII byte in the pattern");
    out->kind = Node::kSet;
    switch (c) {
      case '(': {
        if (at_ + 1 < p_.size() && Peek() == '?') {
          if (p_[at_ + 1] != ':') return Error("only (?: groups are supported");
          at_ += 2;
        }
        if (!ParseAlternation(out)) return false;
        if (!More() || Peek() != ')') return Error("missing ')'");
        ++at_;
        return true;
      }
      case '[': return ParseClass(&out->set);
      case '.':
        out->set = Complement(ByteSet{});
        out->set.bits['\n' >> 6] &= ~(uint64_t{1} << ('\n' & 63));  // ECMAScript's '.' stops at line ends
        out->set.bits['\r' >> 6] &= ~(uint64_t{1} << ('\r' & 63));
        return true;
      case '^': out->kind = Node::kBegin; return true;
      case '$': out->kind = Node::kEnd; return true;
      case '\\': {
        bool is_class = false;
        unsigned char literal = 0;
        if (!ParseEscape(&out->set, &is_class, &literal)) return false;
        if (!is_class) out->set.Add(literal);
        return true;
      }
      case '*': case '+': case '?': case '{': --at_; return Error("quantifier without an operand");
      case ')': --at_; return Error("unbalanced ')'");
      default: out->set.Add(static_cast<unsigned char>(c)); return true;
    }
  }

  int Push(Inst inst) {
    program_->push_back(inst);
    return static_cast<int>(program_->size()) - 1;
  }
  int Here() const { return static_cast<int>(program_->size()); }

  bool Emit(const Node& n) {
    if (program_->size() > kMaxProgram)
      return Error("pattern compiles to more than " + std::to_string(kMaxProgram) + " instructions");
    switch (n.kind) {
      case Node::kEmpty: return true;
      case Node::kBegin: Push({Inst::kAssertBegin}); return true;
      case Node::kEnd: Push({Inst::kAssertEnd}); return true;
      case Node::kSet:
        sets_->push_back(n.set);
        Push({Inst::kByteSet, static_cast<int>(sets_->size()) - 1});
        return true;
      case Node::kConcat:
        for (const Node& k : n.kids)
          if (!Emit(k)) return false;
        return true;
      case Node::kAlt: {
        std::vector<int> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          int split = -1;
          if (i + 1 < n.kids.size()) split = Push({Inst::kSplit}), (*program_)[split].x = Here();
          if (!Emit(n.kids[i])) return false;
          if (split >= 0) jumps.push_back(Push({Inst::kJump})), (*program_)[split].y = Here();
        }
        for (int j : jumps) (*program_)[j].x = Here();
        return true;
      }
      case Node::kRepeat: {
        const Node& kid = n.kids[0];
        for (int i = 0; i < n.min; ++i)
          if (!Emit(kid)) return false;
        if (n.max == -1) {  // L: split(body, out); body; jump L
          const int loop = Push({Inst::kSplit});
          (*program_)[loop].x = Here();
          if (!Emit(kid)) return false;
          Push({Inst::kJump, loop});
          (*program_)[loop].y = Here();
          return true;
        }
        for (int i = n.min; i < n.max; ++i) {  // optional copies: split(body, out); body
          const int split = Push({Inst::kSplit});
          (*program_)[split].x = Here();
          if (!Emit(kid)) return false;
          (*program_)[split].y = Here();
        }
        return true;
      }
    }
    return true;
  }

  std::string_view p_;
  size_t at_ = 0;
  std::string why_;
  std::vector<Inst>* program_ = nullptr;
  std::vector<ByteSet>* sets_ = nullptr;
};

Result<LinearPattern> LinearPattern::Compile(std::string_view pattern) { return PatternCompiler(pattern).Run(); }

void LinearPattern::AddClosure(int start, size_t pos, size_t size, std::vector<int>* list, std::vector<uint32_t>* seen,
                               uint32_t generation, std::vector<int>* stack) const {
  stack->push_back(start);
  while (!stack->empty()) {
    const int pc = stack->back();
    stack->pop_back();
    if ((*seen)[pc] == generation) continue;
    (*seen)[pc] = generation;
    const Inst& in = program_[pc];
    switch (in.op) {
      case Inst::kJump: stack->push_back(in.x); break;
      case Inst::kSplit: stack->push_back(in.y), stack->push_back(in.x); break;
      case Inst::kAssertBegin: if (pos == 0) stack->push_back(pc + 1); break;
      case Inst::kAssertEnd: if (pos == size) stack->push_back(pc + 1); break;
      case Inst::kByteSet:
      case Inst::kMatch: list->push_back(pc); break;
    }
  }
}

bool LinearPattern::FullMatch(std::string_view input) const {
  // Every live state advances together, one input byte at a time: no backtracking, no recursion.
  std::vector<int> current, next, stack;
  std::vector<uint32_t> seen(program_.size(), 0);
  uint32_t generation = 1;
  AddClosure(0, 0, input.size(), &current, &seen, generation, &stack);
  for (size_t pos = 0; pos < input.size(); ++pos) {
    if (current.empty()) return false;
    const auto c = static_cast<unsigned char>(input[pos]);
    next.clear();
    ++generation;
    for (int pc : current)
      if (program_[pc].op == Inst::kByteSet && byte_sets_[program_[pc].x].Has(c))
        AddClosure(pc + 1, pos + 1, input.size(), &next, &seen, generation, &stack);
    current.swap(next);
  }
  for (int pc : current)
    if (program_[pc].op == Inst::kMatch) return true;
  return false;
}

}  // namespace lathe
